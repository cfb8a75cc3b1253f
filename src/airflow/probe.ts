/**
 * The Airflow probe: one Python process in the user's Airflow that answers, per connection and
 * variable, what Airflow resolves and which backend answered, or what each backend raised, with
 * every HTTP request it sent (the Python half is templates/airflow_probe.py, shipped in the
 * package). Shared by doctor and the create flow's `--check airflow`.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runFile } from '../process.js';
import { packageRoot } from '../package-root.js';
import { MAX_TEXT_BYTES, readUserFileIfExists } from '../io/read.js';
import { hasOption, IniError, parseIni } from './ini.js';
import type { AirflowInstall } from './runner.js';

/** A request as the probe saw it: never a header or a body. */
export interface ProbeRequest {
  method: string;
  /** scheme://host:port */
  origin: string | null;
  /** The path with its query, e.g. /v1/auth/approle/login. */
  path: string | null;
}

/** One exception of a chain, outermost first, with what it carries as data. */
export interface ProbeException {
  /** module.QualName, e.g. hvac.exceptions.Forbidden. */
  type: string;
  name: string;
  message: string;
  /** The HTTP status: from hvac's exception class, or the response it carries. */
  status?: number;
  /** The request it answered, when the exception carries it (hvac's and requests' do). */
  request?: ProbeRequest;
  /** An OSError's errno (ECONNREFUSED, ENOENT, ...). */
  errno?: number;
}

/** One HTTP request a backend sent while Airflow asked it, and what came back. */
export interface SentRequest extends ProbeRequest {
  status?: number;
  /** The exception's class name when no response came (ConnectionError, SSLError, ProxyError, ...). */
  error?: string;
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
  /** Every HTTP request this backend sent for the id. */
  requests: SentRequest[];
  /** Asked alone after Airflow's own lookup was done with the id (only backends that do not talk to Vault). */
  alone?: boolean;
  conn?: ProbeConnection | null;
  value?: V | null;
}

export interface IdVerdict {
  /** Airflow's own verdict: what `airflow connections get` / `variables get` would say. */
  found: boolean;
  error: ProbeException[] | null;
  logs: ProbeLogLine[];
  /** The backends Airflow's own lookup reached, in its order, then those asked alone (`alone`). */
  backends: BackendAnswer<string>[];
  conn?: ProbeConnection | null;
  value?: string | null;
  /** What Vault handed Airflow for a connection before Airflow parsed it (a conn_uri, or the fields as JSON). */
  raw?: string;
  /** The secret Vault's backend read: its keys, and those whose value is null (never a value). */
  secret?: { keys: string[]; null: string[] };
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
  auth_mount_point?: string | null;
  namespace?: string | null;
}

/**
 * Airflow 3's task side, when any `[workers]` secrets option is set: the backend a task builds
 * first (from `[workers]` when its class is set, else from `[secrets]`), asked alone for each id.
 */
export interface WorkerView {
  config: { secrets_backend: ConfigEntry; secrets_backend_kwargs: ConfigEntry };
  /** AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__* keys (lower-cased). */
  per_key_kwargs: string[];
  /** Where a task's backend comes from: `[workers]` (its class is set) or `[secrets]` (the fallback). */
  section: 'workers' | 'secrets';
  /** null: no custom backend at all on the task side. */
  backend: BackendInfo | null;
  /** The task side's backend could not be built: every task lookup skips it. */
  init_error: { chain: ProbeException[]; logs?: ProbeLogLine[] } | null;
  connections: Record<string, BackendAnswer<string>>;
  variables: Record<string, BackendAnswer<string>>;
}

export interface ProbeReport {
  timings: Record<string, number>;
  /** Airflow could not even build its secrets backends: every lookup fails with this. */
  init_error: { stage: 'import' | 'backends'; chain: ProbeException[]; logs?: ProbeLogLine[]; trace?: string } | null;
  config: Record<string, ConfigEntry> & { per_key_kwargs?: string[] };
  backends: BackendInfo[];
  connections: Record<string, IdVerdict>;
  variables: Record<string, IdVerdict>;
  /** Airflow 3, when a `[workers]` secrets option is set: what a task's own first backend answers. */
  workers?: WorkerView;
  /** With list: what Vault listed where each VaultBackend looks (the ids asked about). */
  listing?: {
    kind: 'connections' | 'variables';
    path: string;
    keys: string[];
    error: ProbeException[] | null;
    /** The requests the listing sent (its login among them, when it was the first to log in). */
    requests?: SentRequest[];
  }[];
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

/** Whether Airflow's configuration names its metastore (else it is the SQLite file in AIRFLOW_HOME). */
function namesMetastore(env: ReadonlyMap<string, string>, cfgFile: string | undefined): boolean {
  const vars = ['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', 'AIRFLOW__CORE__SQL_ALCHEMY_CONN'];
  if (vars.some((v) => env.has(v) || env.has(`${v}_CMD`) || env.has(`${v}_SECRET`))) return true;
  if (!cfgFile) return false;
  let text: string | null;
  try {
    text = readUserFileIfExists(cfgFile, { what: 'airflow.cfg', maxBytes: MAX_TEXT_BYTES });
  } catch {
    return false;
  }
  if (text === null) return false;
  try {
    const ini = parseIni(text, cfgFile);
    return ['database', 'core'].some((s) =>
      ['sql_alchemy_conn', 'sql_alchemy_conn_cmd', 'sql_alchemy_conn_secret'].some((o) => hasOption(ini, s, o)),
    );
  } catch (e) {
    if (e instanceof IniError) return false;
    throw e;
  }
}

/** The user's Airflow home and config file, as Airflow finds them from the environment. */
function userAirflowHome(userEnv: ReadonlyMap<string, string>, cfgFile?: string): { home: string; cfg: string } {
  const home = userEnv.get('AIRFLOW_HOME') ?? join(userEnv.get('HOME') ?? homedir(), 'airflow');
  return { home, cfg: cfgFile ?? userEnv.get('AIRFLOW_CONFIG') ?? join(home, 'airflow.cfg') };
}

/**
 * Where the user's Airflow keeps its metastore: `named` when the configuration says (a database
 * doctor does not open), else the SQLite file in AIRFLOW_HOME, which may or may not exist.
 */
export function userMetastore(
  userEnv: ReadonlyMap<string, string>,
  cfgFile?: string,
): { named: boolean; sqliteFile?: string } {
  const u = userAirflowHome(userEnv, cfgFile);
  if (namesMetastore(userEnv, existsSync(u.cfg) ? u.cfg : undefined)) return { named: true };
  return { named: false, sqliteFile: join(u.home, 'airflow.db') };
}

/**
 * The environment the probe (and every Airflow command of the checks) runs with: exactly what the
 * user's Airflow gets, i.e. the user's environment with the sandbox .env sourced on top by bash
 * (src/airflow/backend userEnvironment; proxies included: a proxy that would catch the user's
 * Airflow must catch the check too), except that nothing is written into the user's AIRFLOW_HOME:
 * the probe's AIRFLOW_HOME is `privateHome`, with the user's airflow.cfg (`cfgFile`, when it exists)
 * still read through AIRFLOW_CONFIG and, when the configuration names no database, the user's
 * default SQLite metastore (when it exists) named for it: a lookup only reads it.
 */
export function probeEnv(
  userEnv: ReadonlyMap<string, string>,
  privateHome: string,
  cfgFile?: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(userEnv);
  const u = userAirflowHome(userEnv, cfgFile);
  env.AIRFLOW_HOME = privateHome;
  if (existsSync(u.cfg)) env.AIRFLOW_CONFIG = u.cfg;
  else delete env.AIRFLOW_CONFIG;
  const m = userMetastore(userEnv, cfgFile);
  if (m.sqliteFile && existsSync(m.sqliteFile)) env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN = `sqlite:///${m.sqliteFile}`;
  return env;
}

const MARKER = '__CSS_PROBE__';

/** The probe's Python file, shipped in the package beside the DAG templates. */
export function probeFile(): string {
  return join(packageRoot(), 'templates', 'airflow_probe.py');
}

/**
 * Asks Airflow about every id in one process: Airflow's own lookup once per id (Vault is read once,
 * as Airflow reads it), then the backends that do not talk to Vault asked alone, to show what a hit
 * shadows. Throws ProbeError when Python could not answer at all.
 */
export async function runProbe(
  a: AirflowInstall,
  ids: { connections: string[]; variables: string[]; list?: boolean },
  env: NodeJS.ProcessEnv,
  timeoutMs = 300_000,
): Promise<ProbeReport> {
  const started = performance.now();
  const r = await runFile(a.python, [probeFile()], {
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
  const [outer] = chain ?? [];
  const root = rootCause(chain);
  if (!outer || !root) return 'no error';
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

/**
 * Ids Airflow 3's task side does not resolve with its own first backend (`workers`): every id when
 * it cannot build that backend. Empty when no `[workers]` option is set (tasks use `[secrets]`).
 * An id an AIRFLOW_CONN_/AIRFLOW_VAR_ env var answers is no miss: a task asks the env vars right
 * after its first backend, as the server side does.
 */
export function taskSideMisses(p: ProbeReport): string[] {
  const w = p.workers;
  if (!w) return [];
  const fromEnv = (v: IdVerdict | undefined) =>
    v?.backends.some((b) => b.name === 'EnvironmentVariablesBackend' && b.found) ?? false;
  const unanswered = (ids: string[], map: Record<string, IdVerdict>) => ids.filter((id) => !fromEnv(map[id]));
  if (w.init_error)
    return [
      ...unanswered(Object.keys(p.connections), p.connections),
      ...unanswered(Object.keys(p.variables), p.variables),
    ];
  if (!w.backend) return [];
  const missed = (m: Record<string, { found: boolean }>) =>
    Object.entries(m)
      .filter(([, a]) => !a.found)
      .map(([id]) => id);
  return [...unanswered(missed(w.connections), p.connections), ...unanswered(missed(w.variables), p.variables)];
}
