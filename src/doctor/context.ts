/**
 * What doctor knows before its checks run: the sandbox (if any), the environment Airflow would get
 * (the user's, with the sandbox .env sourced by bash), the backend class and kwargs as Airflow
 * reads them with the source of each, the token Airflow would send (looked up before anything
 * spends it) and, when an Airflow is there to ask, Airflow's own answer for every connection and
 * variable (the probe), asked once, in one process, with a private AIRFLOW_HOME.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigFile } from '../config.js';
import { openSandbox, runningServers, type Sandbox, type SandboxPaths } from '../sandbox/index.js';
import { findAirflow, type AirflowInstall } from '../airflow/runner.js';
import {
  AIRFLOW_VERSIONS,
  airflowFeatures,
  airflowMajor,
  type BackendRead,
  describeSource,
  EnvFileError,
  firstPath,
  readBackendSettings,
  userEnvironment,
  type UserEnvironment,
  vaultAccess,
} from '../airflow/backend/index.js';
import { probeEnv, runProbe, type ProbeReport } from '../airflow/probe.js';
import { readBanner } from '../vault/server.js';
import { MAX_TOKEN_BYTES, readUserFileIfExists, readUserFileWindow } from '../io/read.js';
import { FileError } from '../errors.js';
import { airflowToken, limitedUses, lookUpToken, type TokenLookup } from './token-lookup.js';
import { doctorsCaFile } from './clients.js';
import type { DoctorContext } from './types.js';

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

/**
 * The Airflow major a sandbox is for when no Airflow is there to ask: the user's word first, then
 * the Airflow the last run found, then the major this tool writes a sandbox's files for by default.
 */
function intendedAirflow(sb: Sandbox | undefined, config: ConfigFile | undefined): DoctorContext['intendedAirflow'] {
  if (!sb) return undefined;
  const said = config?.airflow?.version;
  if (said && AIRFLOW_VERSIONS.includes(said)) return { major: said, source: `airflow.version in ${sb.config.label}` };
  const found = sb.facts.facts.airflowVersion;
  if (found) return { major: airflowMajor(found), source: `the Airflow ${found} the last run found` };
  // A sandbox this tool made (its state records a run) wrote its files for Airflow 3 when nothing said otherwise.
  return sb.facts.status !== 'missing'
    ? { major: '3', source: 'the files this sandbox wrote for Airflow 3 (no Airflow was found)' }
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
  /** The Airflow to ask, already found or installed (`--airflow N`, tests); null: none. Undefined: look for one. */
  airflow?: AirflowInstall | null;
  /** false: do not ask Airflow even when one is found (the emulation alone). */
  askAirflow?: boolean;
  /** Airflow's answer already in hand (the create flow's check asked it): not asked again. */
  probe?: ProbeReport;
  /** The ids to ask about, when the caller knows them (a run seeded the default example the config does not name). */
  ids?: { connections: string[]; variables: string[] };
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

/** The sandbox server's own token and address, when that server is running and proven ours. */
function sandboxServer(sb: Sandbox | undefined): { token: string; url: string } | undefined {
  const running = sb ? runningServers(sb).server : undefined;
  if (!sb || !running) return undefined;
  const token = readBanner(sb.paths.serverOut, sb.paths.home).rootToken;
  return token ? { token, url: running.url } : undefined;
}

/** Why Airflow is not asked although one is there: what asking would block on, or spend. */
function reasonNotToAsk(read: BackendRead, lookup: TokenLookup | undefined): string | undefined {
  const blocking = blockingFileKwarg(read.kwargs);
  // hvac would open it and wait for good: the checks say why.
  if (blocking) return `${blocking}, which Airflow's Vault client would wait on for ever`;
  const uses = limitedUses(lookup);
  if (uses !== undefined)
    return `${lookup?.from} may be used only ${uses} more time(s), and every lookup Airflow makes spends one: doctor spends none`;
  return undefined;
}

async function askAirflow(
  airflow: AirflowInstall,
  env: Map<string, string>,
  read: BackendRead,
  ids: { connIds?: string[]; varKeys?: string[] },
  privateHome: string | undefined,
): Promise<{ probe: ProbeReport | null; probeError?: string }> {
  let scratch: string | undefined;
  try {
    // Inside the try: an unwritable TMPDIR is the probe's failure (said in its check), not doctor's end.
    scratch = privateHome ? undefined : mkdtempSync(join(tmpdir(), 'css-doctor-airflow-'));
    const penv = probeEnv(env, privateHome ?? scratch ?? tmpdir(), read.cfgFile);
    const ask =
      ids.connIds || ids.varKeys
        ? { connections: ids.connIds ?? [], variables: ids.varKeys ?? [] }
        : { connections: [], variables: [], list: true };
    return { probe: await runProbe(airflow, ask, penv) };
  } catch (e) {
    return { probe: null, probeError: (e as Error).message };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** The token the vault CLI tools would use: the kwargs' token, else VAULT_TOKEN, else ~/.vault-token (masked in output). */
function toolsToken(user: UserEnvironment, read: BackendRead, home: string): string | undefined {
  const kw = read.kwargs;
  return (
    (typeof kw.token === 'string' ? kw.token : undefined) ??
    user.env.get('VAULT_TOKEN') ??
    (readUserFileIfExists(join(home, '.vault-token'), {
      what: 'the vault CLI token file',
      maxBytes: MAX_TOKEN_BYTES,
    })?.trim() ||
      undefined)
  );
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
  const config = sandbox?.config.parsed;
  const airflow = opts.airflow !== undefined ? opts.airflow : await findAirflow(opts.airflowBin, paths?.venvAirflow);
  const intended = airflow ? undefined : intendedAirflow(sandbox, config);
  const expected = expectedIds(sandbox, config);
  const ids = {
    connIds: opts.ids?.connections ?? expected.connIds,
    varKeys: opts.ids?.variables ?? expected.varKeys,
  };
  const home = processEnv.HOME ?? homedir();

  // The class and kwargs as Airflow reads them (the reader is held to real Airflow by
  // test/e2e/backend-settings.airflow.test.ts), for the Airflow asked or the one the sandbox is for.
  const version = airflow?.version ?? intended?.major ?? '3';
  const read = await readBackendSettings(user, { version });
  // Airflow 3: the backend a task builds first ([workers], else [secrets]), by the same reader.
  const workerRead = airflowFeatures(version).workersBackend
    ? await readBackendSettings(user, { version, side: 'worker' })
    : undefined;
  const access = vaultAccess(read.kwargs, env);
  const server = sandboxServer(sandbox);
  const wanted = airflowToken(read, { env, envFileKeys: user.fromEnvFile, envFile: user.envFile });
  const tokenLookup = wanted
    ? await lookUpToken(wanted, access, server, doctorsCaFile(access, env, sandbox))
    : undefined;

  let probe: ProbeReport | null | undefined;
  let probeError: string | undefined;
  let notAsked: string | undefined;
  if (opts.probe) probe = opts.probe;
  else if (airflow && airflow.major !== '1.10' && opts.askAirflow !== false) {
    notAsked = reasonNotToAsk(read, tokenLookup);
    if (!notAsked) ({ probe, probeError } = await askAirflow(airflow, env, read, ids, paths?.airflowHome));
  }

  const kwargs = read.kwargs;
  const kv = kwargs.kv_engine_version;
  return {
    sandbox,
    paths,
    config,
    state: sandbox?.server ?? null,
    env,
    envFileKeys: user.fromEnvFile,
    envSource: user.envFile ?? 'the environment',
    processEnv,
    home,
    token: toolsToken(user, read, home),
    ...(server ? { serverToken: server.token, serverUrl: server.url } : {}),
    kwargs,
    kwargsRaw: read.kwargsText,
    kwargsSource: read.kwargsSource ? describeSource(read.kwargsSource) : 'AIRFLOW__SECRETS__BACKEND_KWARGS (not set)',
    backendClass: read.settings.classPath,
    backendSource: read.classSource ? describeSource(read.classSource) : 'AIRFLOW__SECRETS__BACKEND (not set)',
    backend: read,
    ...(workerRead ? { workerBackend: workerRead } : {}),
    access,
    ...(envFileError ? { envFileError } : {}),
    mount: access.mount === null ? null : access.mount.replace(/^\/+|\/+$/g, '') || null,
    connectionsPath:
      access.connectionsPaths === null ? null : firstPath(read.settings.kwargs.connections_path, 'connections'),
    variablesPath: access.variablesPaths === null ? null : firstPath(read.settings.kwargs.variables_path, 'variables'),
    kvVersion: kv === 1 || kv === 2 ? kv : kv === undefined || kv === null ? 2 : undefined,
    airflow,
    intendedAirflow: intended,
    probe,
    probeError,
    ...(notAsked ? { notAsked } : {}),
    ...(tokenLookup ? { tokenLookup } : {}),
    connIds: ids.connIds ?? (probe?.listing ? Object.keys(probe.connections) : undefined),
    varKeys: ids.varKeys ?? (probe?.listing ? Object.keys(probe.variables) : undefined),
  };
}
