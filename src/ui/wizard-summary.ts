/**
 * The summary the wizard shows before anything starts: the server, where it listens, how Airflow
 * logs in, the connections (passwords masked) and variables (keys only), what leaves the config,
 * the files and the check. Pure: the create command gathers the facts (src/commands/plan-summary.ts).
 */
import { redact } from './mask.js';

export interface PlanSummary {
  server: string;
  auth: string;
  connections: { id: string; uri: string; note?: string }[];
  /** Connections beyond those listed (an import may bring thousands). */
  moreConnections: number;
  variables: string[];
  /** What this run removes from the config, and where it still is. */
  removed: string[];
  files: { action: string; path: string; note?: string }[];
  check: string;
}

function table(label: string, lines: string[]): string[] {
  return lines.map((l, i) => `  ${(i === 0 ? label : '').padEnd(12)} ${l}`);
}

export function summaryLines(p: PlanSummary): string[] {
  const width = Math.max(0, ...p.connections.map((c) => c.id.length));
  const conns = p.connections.map((c) => `${c.id.padEnd(width)}  ${c.uri}${c.note ? `  (${c.note})` : ''}`);
  if (p.moreConnections > 0) conns.push(`… and ${p.moreConnections} more`);
  const files = p.files.map((f) => `${f.action.padEnd(9)} ${f.path}${f.note ? ` (${f.note})` : ''}`);
  return [
    'This run will:',
    ...table('server', [p.server]),
    ...table('airflow', [p.auth]),
    ...table('connections', conns.length ? conns : ['none']),
    ...table('variables', [p.variables.length ? `${p.variables.join(', ')} (values not shown)` : 'none']),
    ...(p.removed.length ? table('removed', p.removed) : []),
    ...table('files', files),
    ...table('check', [p.check]),
  ].map((l) => redact(l));
}
