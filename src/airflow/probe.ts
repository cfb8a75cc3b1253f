/**
 * The Airflow probe: one Python process in the user's Airflow that answers, per connection and
 * variable, what Airflow resolves and which backend answered, or what each backend raised (the
 * Python half is probe-py.ts). Shared by doctor and the create flow's `--check airflow`.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runFile } from '../process.js';
import type { AirflowInstall } from './runner.js';
import { PROBE_PY } from './probe-py.js';

/** One exception of a chain, outermost first; `status` is the HTTP status when hvac gives one. */
export interface ProbeException {
  type: string;
  name: string;
  message: string;
  status?: number;
}

export interface ProbeLogLine {
  logger: string;
  level: string;
  message: string;
  exception?: ProbeException[];
}

export interface ProbeConnection {
  conn_type: string | null;
  host: string | null;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  extra: string | null;
}

export interface BackendAnswer<V> {
  /** The backend's class name: VaultBackend, EnvironmentVariablesBackend, MetastoreBackend, ... */
  name: string;
  found: boolean;
  error: ProbeException[] | null;
  logs: ProbeLogLine[];
  conn?: ProbeConnection | null;
  value?: V | null;
}

export interface IdVerdict {
  /** Airflow's own verdict: what `airflow connections get` / `variables get` would say. */
  found: boolean;
  error: ProbeException[] | null;
  logs: ProbeLogLine[];
  /** Each backend asked alone, in Airflow's order. */
  backends: BackendAnswer<string>[];
  conn?: ProbeConnection | null;
  value?: string | null;
}

export interface ConfigEntry {
  source: 'environment' | 'airflow.cfg' | 'default';
  /** The env var or the airflow.cfg key it came from. */
  name?: string;
  file?: string;
  value?: string;
  error?: ProbeException[];
}

export interface BackendInfo {
  class: string;
  name: string;
  connections_path?: string[] | null;
  variables_path?: string[] | null;
  mount_point?: string | null;
  kv_engine_version?: number;
  url?: string | null;
  auth_type?: string;
  namespace?: string | null;
}

export interface ProbeReport {
  timings: Record<string, number>;
  /** Airflow could not even build its secrets backends: every lookup fails with this. */
  init_error: { stage: 'import' | 'backends'; chain: ProbeException[]; logs?: ProbeLogLine[]; trace?: string } | null;
  config: Record<string, ConfigEntry> & { per_key_kwargs?: string[] };
  backends: BackendInfo[];
  connections: Record<string, IdVerdict>;
  variables: Record<string, IdVerdict>;
  /** With list: what Vault listed where each VaultBackend looks (the ids asked about). */
  listing?: { kind: 'connections' | 'variables'; path: string; keys: string[]; error: ProbeException[] | null }[];
  /** Wall time of the whole process, in seconds, measured from Node. */
  wallSeconds: number;
}

export class ProbeError extends Error {
  readonly kind = 'probe';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(message);
  }
}

/**
 * The environment the probe (and every Airflow command of the checks) runs with: exactly what the
 * user's Airflow gets, i.e. the user's environment with the sandbox .env sourced on top by bash
 * (src/airflow/backend userEnvironment; proxies included: a proxy that would catch the user's
 * Airflow must catch the check too). Only AIRFLOW_HOME may be made private, and only when the
 * user's Airflow would start from defaults anyway (no AIRFLOW_HOME, no ~/airflow/airflow.cfg), so
 * that nothing is written into the user's home.
 */
export function probeEnv(userEnv: ReadonlyMap<string, string>, privateHome?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(userEnv);
  if (!env.AIRFLOW_HOME && privateHome) {
    const home = userEnv.get('HOME') ?? homedir();
    if (!existsSync(join(home, 'airflow', 'airflow.cfg'))) env.AIRFLOW_HOME = privateHome;
  }
  return env;
}

const MARKER = '__CSS_PROBE__';

/**
 * Asks Airflow about every id in one process. Throws ProbeError when Python could not answer at all.
 * `allBackends: false` stops at the backend that answers, as Airflow does (enough for a verdict and
 * its source); doctor asks them all to show what a hit shadows.
 */
export async function runProbe(
  a: AirflowInstall,
  ids: { connections: string[]; variables: string[]; list?: boolean; allBackends?: boolean },
  env: NodeJS.ProcessEnv,
  timeoutMs = 300_000,
): Promise<ProbeReport> {
  const started = performance.now();
  const r = await runFile(a.python, ['-c', PROBE_PY], {
    env,
    timeoutMs,
    input: JSON.stringify({ major: a.major, ...ids }),
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const at = r.stdout.lastIndexOf(MARKER);
  if (at < 0) {
    const tail = (r.stderr + '\n' + r.stdout).trim().split('\n').filter(Boolean).slice(-4).join(' | ');
    throw new ProbeError(
      `the Airflow probe (${a.python}) ended without an answer (exit ${r.code}): ${tail}`,
      r.code,
      r.stderr + r.stdout,
    );
  }
  const parsed = JSON.parse(r.stdout.slice(at + MARKER.length)) as Omit<ProbeReport, 'wallSeconds'>;
  return { ...parsed, wallSeconds };
}

/** The innermost exception of a chain that carries an HTTP status, else the innermost one. */
export function rootCause(chain: ProbeException[] | null | undefined): ProbeException | undefined {
  if (!chain?.length) return undefined;
  return [...chain].reverse().find((e) => e.status !== undefined) ?? chain[chain.length - 1];
}

/** One line for an exception chain: `Forbidden (HTTP 403): permission denied`. */
export function describeException(chain: ProbeException[] | null | undefined): string {
  if (!chain?.length) return 'no error';
  const outer = chain[0]!;
  const root = rootCause(chain)!;
  const text = (e: ProbeException) =>
    e.message
      .replace(/\s+/g, ' ')
      .replace(/^1 error occurred: \* /, '')
      .trim()
      .slice(0, 300);
  const head = `${outer.name}: ${text(outer)}`;
  if (root === outer) return head + (outer.status ? ` (HTTP ${outer.status})` : '');
  return `${head} <- ${root.name}${root.status ? ` (HTTP ${root.status})` : ''}: ${text(root)}`;
}

/** Which backend answered an id in Airflow's order, and which others also hold it (shadowed). */
export function answeredBy(v: IdVerdict): { answer?: string; alsoHeldBy: string[] } {
  const holders = v.backends.filter((b) => b.found).map((b) => b.name);
  return { answer: v.found ? holders[0] : undefined, alsoHeldBy: holders.slice(1) };
}

/** An Airflow backend the user knows by where it reads from. */
export function backendLabel(name: string): string {
  if (name === 'EnvironmentVariablesBackend') return 'an AIRFLOW_CONN_/AIRFLOW_VAR_ env var';
  if (name === 'MetastoreBackend') return "Airflow's metastore";
  if (name === 'VaultBackend') return 'Vault';
  return name;
}
