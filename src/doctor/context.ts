/**
 * What doctor knows before its checks run: the sandbox (if any), the env Airflow would get, the
 * backend class and kwargs as Airflow reads them, and, when an Airflow is found, Airflow's own answer
 * for every connection and variable (the probe), asked once, in one process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigFile } from '../config.js';
import { CONFIG_FILE, findSandboxDir, readFacts, readState, sandboxPaths, type SandboxPaths } from '../sandbox.js';
import { parseEnvFile } from '../airflow/templates.js';
import { airflowMajor, findAirflow, type AirflowInstall } from '../airflow/runner.js';
import { AIRFLOW_VERSIONS } from '../airflow/backend.js';
import { probeEnv, runProbe, type ProbeReport } from '../airflow/probe.js';
import { readBanner } from '../vault/server.js';
import { proveOurs } from '../vault/identity.js';
import { readSecretsOption, type CfgValue } from './airflow-cfg.js';
import type { DoctorContext } from './types.js';

/** The sandbox every command means (sandbox.ts findSandboxDir), when there is one there. */
function findSandbox(dirArg: string | undefined): SandboxPaths | undefined {
  const d = findSandboxDir(dirArg);
  if (existsSync(join(d, CONFIG_FILE)) || existsSync(join(d, '.sandbox', 'state.json'))) return sandboxPaths(d);
  return undefined;
}

const KWARG_PREFIX = 'AIRFLOW__SECRETS__BACKEND_KWARG__';

/** The kwargs JSON as Airflow parses it, with Airflow 3.3's per-key overrides on top. */
export function parseKwargs(
  raw: string | undefined,
  env: Map<string, string>,
  perKey: boolean,
): Record<string, unknown> | undefined {
  let kwargs: Record<string, unknown> | undefined;
  if (raw !== undefined && raw.trim() !== '') {
    try {
      const v: unknown = JSON.parse(raw);
      if (v && typeof v === 'object' && !Array.isArray(v)) kwargs = { ...(v as Record<string, unknown>) };
    } catch {
      /* backend-kwargs reports it */
    }
  }
  if (perKey) {
    for (const [k, v] of env) {
      if (k.startsWith(KWARG_PREFIX) && k.length > KWARG_PREFIX.length)
        (kwargs ??= {})[k.slice(KWARG_PREFIX.length).toLowerCase()] = v;
    }
  }
  return kwargs;
}

/** VaultBackend's path argument as it keeps it: a string (trailing slashes dropped), null, or the default. */
function pathArg(kwargs: Record<string, unknown> | undefined, key: string, fallback: string): string | null {
  if (!kwargs || !(key in kwargs)) return fallback;
  const v = kwargs[key];
  if (v === null) return null;
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0].replace(/\/+$/, '') : fallback;
  return typeof v === 'string' ? v.replace(/\/+$/, '') : fallback;
}

/** The Airflow major a sandbox is for when no Airflow is there to ask: the user's word first, then the last one found. */
function intendedAirflow(
  paths: SandboxPaths | undefined,
  config: ConfigFile | undefined,
): DoctorContext['intendedAirflow'] {
  if (!paths) return undefined;
  const said = config?.airflow?.version;
  if (said && AIRFLOW_VERSIONS.includes(said)) return { major: said, source: `airflow.version in ${paths.config}` };
  const found = readFacts(paths).facts.airflowVersion;
  return found
    ? { major: airflowMajor(found), source: `the Airflow ${found} the last run found (${paths.state})` }
    : undefined;
}

export interface DoctorOptions {
  airflowBin?: string;
  /** Injected in tests; undefined means look for one. */
  airflow?: AirflowInstall | null;
  /** false: do not ask Airflow even when one is found (the emulation alone). */
  askAirflow?: boolean;
  /** Airflow's answer already in hand (the create flow's check asked it): not asked again. */
  probe?: ProbeReport;
  /** The ids to ask about, when the caller knows them (a run seeded the default example the config does not name). */
  ids?: { connections: string[]; variables: string[] };
}

export async function buildDoctorContext(
  dirArg: string | undefined,
  processEnv: NodeJS.ProcessEnv = process.env,
  opts: DoctorOptions = {},
): Promise<DoctorContext> {
  const paths = findSandbox(dirArg);
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env.set(k, v);
  let config: ConfigFile | undefined;
  let envSource = 'the environment';
  let envFile: Map<string, string> | undefined;
  if (paths) {
    if (existsSync(paths.env)) {
      envFile = parseEnvFile(readFileSync(paths.env, 'utf8'));
      for (const [k, v] of envFile) env.set(k, v);
      envSource = paths.env;
    }
    if (existsSync(paths.config)) config = await loadConfig(paths.config).catch(() => undefined);
  }
  const state = paths ? readState(paths) : null;
  const airflow = opts.airflow !== undefined ? opts.airflow : await findAirflow(opts.airflowBin, paths?.dir);
  const connIds = opts.ids?.connections ?? (config?.connections ? Object.keys(config.connections) : undefined);
  const varKeys = opts.ids?.variables ?? (config?.variables ? Object.keys(config.variables) : undefined);

  let probe: ProbeReport | null | undefined;
  let probeError: string | undefined;
  if (opts.probe) probe = opts.probe;
  else if (airflow && airflow.major !== '1.10' && opts.askAirflow !== false) {
    // A private AIRFLOW_HOME only where the user's Airflow would start from defaults anyway.
    const scratch = paths ? undefined : mkdtempSync(join(tmpdir(), 'css-doctor-airflow-'));
    try {
      const penv = probeEnv(processEnv, envFile, paths ? join(paths.stateDir, 'airflow') : scratch);
      const ids =
        connIds || varKeys
          ? { connections: connIds ?? [], variables: varKeys ?? [] }
          : { connections: [], variables: [], list: true };
      probe = await runProbe(airflow, ids, penv);
    } catch (e) {
      probe = null;
      probeError = (e as Error).message;
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  }

  // The class and kwargs as Airflow reads them: Airflow's own answer when we have one (airflow.cfg,
  // _CMD and _SECRET included), else the environment.
  const fromProbe = probe && !(probe.init_error?.stage === 'import') ? probe.config : undefined;
  const clsEntry = fromProbe?.['secrets.backend'];
  const kwEntry = fromProbe?.['secrets.backend_kwargs'];
  const home = processEnv.HOME ?? homedir();
  const envOrigin = (name: string) => (envFile?.has(name) ? envSource : 'the environment');
  // Without Airflow's answer: the environment, its _CMD, then airflow.cfg, as Airflow's conf reads them.
  const clsLocal = fromProbe ? undefined : readSecretsOption('backend', env, envOrigin, home);
  const kwLocal = fromProbe ? undefined : readSecretsOption('backend_kwargs', env, envOrigin, home);
  const backendClass = clsEntry ? clsEntry.value || undefined : clsLocal?.value || undefined;
  const rawKwargs = kwEntry ? kwEntry.value : kwLocal?.value;
  const describe = (e: typeof clsEntry, local: CfgValue | undefined, name: string) =>
    e
      ? e.source === 'airflow.cfg'
        ? `[secrets] ${e.name} in ${e.file}`
        : e.source === 'environment'
          ? `${e.name} in ${envOrigin(e.name!)}`
          : 'not set'
      : (local?.source ?? `${name} (not set)`);
  const perKey = !airflow || (airflow.major === '3' && !/^3\.[0-2]\./.test(airflow.version));
  const kwargs = parseKwargs(rawKwargs, env, perKey);

  const tokenFile = join(home, '.vault-token');
  const token =
    (typeof kwargs?.token === 'string' ? kwargs.token : undefined) ??
    env.get('VAULT_TOKEN') ??
    (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() || undefined : undefined);
  // The banner's token counts only for a server proven to be this sandbox's (vault/identity.ts).
  const serverToken =
    paths &&
    state &&
    proveOurs(state.pid, { address: state.address, sandboxId: state.sandboxId, home: paths.home }).ours
      ? readBanner(paths.serverOut).rootToken
      : undefined;
  const kv = kwargs?.kv_engine_version;
  // The provider's default is 'secret' whatever the sandbox config says; hvac tolerates a slash at either end.
  const mount = kwargs
    ? 'mount_point' in kwargs
      ? typeof kwargs.mount_point === 'string'
        ? kwargs.mount_point.replace(/^\/+|\/+$/g, '') || null
        : null
      : 'secret'
    : (config?.vault?.mount ?? 'secret');
  return {
    paths,
    config,
    state,
    env,
    envFileKeys: new Set(envFile?.keys() ?? []),
    envSource,
    processEnv,
    home,
    token,
    serverToken,
    kwargs,
    kwargsRaw: rawKwargs,
    kwargsSource: describe(kwEntry, kwLocal, 'AIRFLOW__SECRETS__BACKEND_KWARGS'),
    backendClass,
    backendSource: describe(clsEntry, clsLocal, 'AIRFLOW__SECRETS__BACKEND'),
    mount,
    connectionsPath: pathArg(kwargs, 'connections_path', 'connections'),
    variablesPath: pathArg(kwargs, 'variables_path', 'variables'),
    kvVersion: kv === 1 || kv === 2 ? kv : kv === undefined || kv === null ? 2 : undefined,
    airflow,
    intendedAirflow: airflow ? undefined : intendedAirflow(paths, config),
    probe,
    probeError,
    connIds: connIds ?? (probe?.listing ? Object.keys(probe.connections) : undefined),
    varKeys: varKeys ?? (probe?.listing ? Object.keys(probe.variables) : undefined),
  };
}
