/**
 * What doctor knows before its checks run: the sandbox (if any), the env Airflow would get, the
 * backend class and kwargs as Airflow reads them, and, when an Airflow is found, Airflow's own answer
 * for every connection and variable (the probe), asked once, in one process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigFile } from '../config.js';
import { openSandbox, runningServers, type Sandbox } from '../sandbox/index.js';
import { parseEnvFile } from '../airflow/templates.js';
import { airflowMajor, findAirflow, type AirflowInstall } from '../airflow/runner.js';
import { AIRFLOW_VERSIONS } from '../airflow/backend.js';
import { probeEnv, runProbe, type ProbeReport } from '../airflow/probe.js';
import { readBanner } from '../vault/server.js';
import { readSecretsOption, type CfgValue } from './airflow-cfg.js';
import type { DoctorContext } from './types.js';

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
function intendedAirflow(sb: Sandbox | undefined, config: ConfigFile | undefined): DoctorContext['intendedAirflow'] {
  if (!sb) return undefined;
  const said = config?.airflow?.version;
  if (said && AIRFLOW_VERSIONS.includes(said)) return { major: said, source: `airflow.version in ${sb.paths.config}` };
  const found = sb.facts.facts.airflowVersion;
  return found
    ? { major: airflowMajor(found), source: `the Airflow ${found} the last run found (${sb.paths.state})` }
    : undefined;
}

/** Both lists, deduplicated, in order; undefined when neither says anything. */
function union(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}

/**
 * The ids doctor asks about: those the sandbox seeded (state.json; the default example included)
 * and those its config lists. Undefined when neither knows any: then doctor lists what Vault holds.
 */
function expectedIds(sb: Sandbox | undefined, config: ConfigFile | undefined) {
  return {
    connIds: union(sb?.seeded?.connections, config?.connections ? Object.keys(config.connections) : undefined),
    varKeys: union(sb?.seeded?.variables, config?.variables ? Object.keys(config.variables) : undefined),
  };
}

export interface DoctorOptions {
  /** --config FILE: the sandbox's config, as every command resolves it (src/sandbox). */
  config?: string;
  airflowBin?: string;
  /** Injected in tests; undefined means look for one. */
  airflow?: AirflowInstall | null;
  /** false: do not ask Airflow even when one is found (the emulation alone). */
  askAirflow?: boolean;
  /** Airflow's answer already in hand (the create flow's check asked it): not asked again. */
  probe?: ProbeReport;
}

export async function buildDoctorContext(
  dirArg: string | undefined,
  processEnv: NodeJS.ProcessEnv = process.env,
  opts: DoctorOptions = {},
): Promise<DoctorContext> {
  const opened = await openSandbox(dirArg, { config: opts.config });
  const sandbox = opened.exists ? opened : undefined;
  const paths = sandbox?.paths;
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
    config = sandbox?.config.parsed;
  }
  const state = sandbox?.server ?? null;
  const airflow = opts.airflow !== undefined ? opts.airflow : await findAirflow(opts.airflowBin, paths?.venvAirflow);
  const { connIds, varKeys } = expectedIds(sandbox, config);

  let probe: ProbeReport | null | undefined;
  let probeError: string | undefined;
  if (opts.probe) probe = opts.probe;
  else if (airflow && airflow.major !== '1.10' && opts.askAirflow !== false) {
    // A private AIRFLOW_HOME only where the user's Airflow would start from defaults anyway.
    const scratch = paths ? undefined : mkdtempSync(join(tmpdir(), 'css-doctor-airflow-'));
    try {
      const penv = probeEnv(processEnv, envFile, paths ? paths.airflowHome : scratch);
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
    sandbox && runningServers(sandbox).server
      ? readBanner(sandbox.paths.serverOut, sandbox.paths.home).rootToken
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
    sandbox,
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
    intendedAirflow: airflow ? undefined : intendedAirflow(sandbox, config),
    probe,
    probeError,
    connIds: connIds ?? (probe?.listing ? Object.keys(probe.connections) : undefined),
    varKeys: varKeys ?? (probe?.listing ? Object.keys(probe.variables) : undefined),
  };
}
