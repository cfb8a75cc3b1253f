/**
 * What `.sandbox/state.json` keeps about the Airflow components a run started: written the moment
 * they are spawned (so a CLI killed with SIGKILL leaves nothing `down` cannot find), cleared once
 * they are proven gone, kept while they run on purpose (--keep).
 */
import type { ComponentName } from './components.js';

export interface RunComponentRecord {
  name: ComponentName;
  pid: number;
  port?: number;
  /** When it started (Linux: clock ticks since boot), read right after the spawn: with the pid, its identity. */
  startTicks?: number;
}

export interface AirflowRunRecord {
  /** Random; in every component's environment (RUN_ID_ENV), and so in every process they start. */
  runId: string;
  major: '2' | '3';
  airflowBin: string;
  /** The private AIRFLOW_HOME the components run in (their working dir). */
  home: string;
  startedAt: string;
  /** Left running on purpose (--check run --keep). */
  kept: boolean;
  /** The Airflow UI, when a component serves it, and how to sign in. */
  ui?: { url: string; signIn: string };
  components: RunComponentRecord[];
}

/** The environment variable every process of a run carries: how a process is proven one of ours. */
export const RUN_ID_ENV = 'SECRETS_SANDBOX_RUN';

const NAMES: readonly ComponentName[] = ['api-server', 'scheduler', 'dag-processor', 'webserver'];

const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;

/** A record read back from state.json, or undefined when it is not one (then nothing is signalled). */
export function parseRunRecord(raw: unknown): AirflowRunRecord | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.runId !== 'string' || !/^[0-9a-f]{8,64}$/.test(r.runId)) return undefined;
  if (r.major !== '2' && r.major !== '3') return undefined;
  if (typeof r.home !== 'string' || typeof r.airflowBin !== 'string' || !Array.isArray(r.components)) return undefined;
  const components: RunComponentRecord[] = [];
  for (const c of r.components) {
    if (!c || typeof c !== 'object') return undefined;
    const e = c as Record<string, unknown>;
    const name = NAMES.find((n) => n === e.name);
    if (!name || typeof e.pid !== 'number' || !Number.isInteger(e.pid) || e.pid <= 1) return undefined;
    const ticks =
      typeof e.startTicks === 'number' && Number.isInteger(e.startTicks) ? { startTicks: e.startTicks } : {};
    components.push({ name, pid: e.pid, ...(isPort(e.port) ? { port: e.port } : {}), ...ticks });
  }
  const ui =
    r.ui && typeof r.ui === 'object' && typeof (r.ui as Record<string, unknown>).url === 'string'
      ? {
          url: String((r.ui as Record<string, unknown>).url),
          signIn: String((r.ui as Record<string, unknown>).signIn ?? ''),
        }
      : undefined;
  return {
    runId: r.runId,
    major: r.major,
    airflowBin: r.airflowBin,
    home: r.home,
    startedAt: String(r.startedAt ?? ''),
    kept: r.kept === true,
    ...(ui ? { ui } : {}),
    components,
  };
}
