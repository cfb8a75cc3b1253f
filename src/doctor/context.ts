/**
 * What doctor knows before its checks run: the sandbox (if any), the env Airflow would get, the
 * backend class and kwargs as Airflow reads them, and, when an Airflow is found, Airflow's own answer
 * for every connection and variable (the probe), asked once, in one process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigFile } from '../config.js';
import { openSandbox, runningServers, type Sandbox, type SandboxPaths } from '../sandbox/index.js';
import { findAirflow, type AirflowInstall } from '../airflow/runner.js';
import {
  AIRFLOW_VERSIONS,
  airflowMajor,
  describeSource,
  EnvFileError,
  firstPath,
  readBackendSettings,
  userEnvironment,
  type PathsKwarg,
} from '../airflow/backend/index.js';
import { probeEnv, runProbe, type ProbeReport } from '../airflow/probe.js';
import { readBanner } from '../vault/server.js';
import type { DoctorContext } from './types.js';
import { MAX_TOKEN_BYTES, readUserFileIfExists, readUserFileWindow } from '../io/read.js';
import { FileError } from '../errors.js';

/** VaultBackend's path argument as it keeps it: the first path (trailing slashes dropped), null, or the default. */
function pathArg(kwargs: Record<string, unknown> | undefined, key: string, fallback: string): string | null {
  if (!kwargs || !(key in kwargs)) return fallback;
  return firstPath(kwargs[key] as PathsKwarg, fallback);
}

/** The sandbox .env sourced by bash on top of the user's environment; the environment alone when bash cannot finish it. */
async function environmentOf(paths: SandboxPaths | undefined, processEnv: NodeJS.ProcessEnv) {
  const envFile = paths && existsSync(paths.env) ? paths.env : undefined;
  try {
    return { user: await userEnvironment(processEnv, envFile) };
  } catch (e) {
    if (!(e instanceof EnvFileError)) throw e;
    return { user: await userEnvironment(processEnv, undefined), envFileError: e.message };
  }
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

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The kwargs that name a file Airflow's Vault client opens (token, service-account JWT, key, CA bundle). */
const FILE_KWARGS = ['token_path', 'kubernetes_jwt_path', 'gcp_key_path', 'verify'];

/**
 * A kwargs file that is a FIFO or a device: Python's open() and read() would block on it (or never
 * end), so asking Airflow would hang. A missing file or a directory fails at once there: fine.
 */
function blockingFileKwarg(kwargs: Record<string, unknown>): string | undefined {
  for (const key of FILE_KWARGS) {
    const path = kwargs[key];
    if (typeof path !== 'string' || path === '' || (key === 'verify' && /^(true|false)$/i.test(path))) continue;
    try {
      readUserFileWindow(path, { what: key, maxBytes: 1, from: 'start' });
    } catch (e) {
      if (e instanceof FileError && e.kind === 'not-regular' && e.code !== 'EISDIR')
        return `${key} ${path} ${e.problem}`;
    }
  }
  return undefined;
}

export async function buildDoctorContext(
  dirArg: string | undefined,
  processEnv: NodeJS.ProcessEnv = process.env,
  opts: DoctorOptions = {},
): Promise<DoctorContext> {
  const opened = await openSandbox(dirArg, { config: opts.config });
  const sandbox = opened.exists ? opened : undefined;
  const paths = sandbox?.paths;
  const { user, envFileError } = await environmentOf(paths, processEnv);
  const env = user.env;
  const envSource = user.envFile ?? 'the environment';
  const config = sandbox?.config.parsed;
  const state = sandbox?.server ?? null;
  const airflow = opts.airflow !== undefined ? opts.airflow : await findAirflow(opts.airflowBin, paths?.venvAirflow);
  const { connIds, varKeys } = expectedIds(sandbox, config);

  // The class and kwargs as Airflow reads them (the reader is held to real Airflow by
  // test/e2e/backend-settings.airflow.test.ts); only a value Airflow reads through the backend
  // itself (_SECRET) is taken from Airflow's own answer.
  const home = processEnv.HOME ?? homedir();
  const version = airflow?.version ?? intendedAirflow(sandbox, config)?.major ?? '3';
  const read = await readBackendSettings(user, { version });

  let probe: ProbeReport | null | undefined;
  let probeError: string | undefined;
  const blocking = blockingFileKwarg(read.kwargs);
  if (opts.probe) probe = opts.probe;
  else if (blocking && airflow) {
    // hvac would open it and wait for good: Airflow is not asked, the checks below say why.
    probe = null;
    probeError = `not asked: ${blocking}, which Airflow's Vault client would wait on for ever`;
  } else if (airflow && airflow.major !== '1.10' && opts.askAirflow !== false) {
    // A private AIRFLOW_HOME only where the user's Airflow would start from defaults anyway.
    let scratch: string | undefined;
    try {
      // Inside the try: an unwritable TMPDIR is the probe's failure (said in its check), not doctor's end.
      scratch = paths ? undefined : mkdtempSync(join(tmpdir(), 'css-doctor-airflow-'));
      const penv = probeEnv(env, paths ? paths.airflowHome : scratch);
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

  const fromProbe = probe && !(probe.init_error?.stage === 'import') ? probe.config : undefined;
  const kwProblem = read.problems.find((p) => p.option.endsWith('backend_kwargs'));
  const rawKwargs =
    read.kwargsText ?? (kwProblem?.effect === 'unknown' ? fromProbe?.['secrets.backend_kwargs']?.value : undefined);
  const jsonObject = read.kwargsText !== undefined && !kwProblem;
  const kwargs =
    jsonObject || Object.keys(read.kwargs).length > 0
      ? read.kwargs
      : rawKwargs !== undefined && rawKwargs !== read.kwargsText
        ? parseObject(rawKwargs)
        : undefined;
  const backendClass = read.settings.classPath;
  const tokenFile = join(home, '.vault-token');
  const token =
    (typeof kwargs?.token === 'string' ? kwargs.token : undefined) ??
    env.get('VAULT_TOKEN') ??
    (readUserFileIfExists(tokenFile, { what: 'the vault CLI token file', maxBytes: MAX_TOKEN_BYTES })?.trim() ||
      undefined);
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
    envFileKeys: user.fromEnvFile,
    envSource,
    processEnv,
    home,
    token,
    serverToken,
    kwargs,
    kwargsRaw: rawKwargs,
    kwargsSource: read.kwargsSource ? describeSource(read.kwargsSource) : 'AIRFLOW__SECRETS__BACKEND_KWARGS (not set)',
    backendClass,
    backendSource: read.classSource ? describeSource(read.classSource) : 'AIRFLOW__SECRETS__BACKEND (not set)',
    backend: read,
    ...(envFileError ? { envFileError } : {}),
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
