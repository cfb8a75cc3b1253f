/**
 * Where a sandbox keeps its files, which dir a command means, and `.sandbox/state.json`: the facts
 * runs found or chose (port bound, server binary, Airflow, the sandbox id, the server's pid from the
 * moment it was spawned). Facts are never written into secrets-sandbox.yaml as if the user had said them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Flavour } from './vault/binary.js';
import { parseRunRecord, type AirflowRunRecord } from './airflow/run/record.js';
import { writePrivateFile } from './io/private.js';
import { MAX_RECORD_BYTES, readUserFileIfExists } from './io/read.js';

export interface SandboxPaths {
  dir: string;
  config: string;
  env: string;
  dockerEnv: string;
  gitignore: string;
  stateDir: string;
  state: string;
  /** The server's stdout: the banner, with the root token (0600). */
  serverOut: string;
  /** The server's stderr: its log. */
  serverLog: string;
  /** Hashes of the files this tool wrote last, to tell our files from the user's edits. */
  written: string;
  /** Held while a run changes the sandbox: one run at a time. */
  lock: string;
  /** The server's private HOME and working dir. */
  home: string;
  /** The private AIRFLOW_HOME of the checks (`--check dag`, `--check run`): its database, config and logs. */
  airflowHome: string;
}

export const CONFIG_FILE = 'secrets-sandbox.yaml';
export const DEFAULT_SANDBOX_DIR = 'secrets-sandbox';
/** The example DAG, in the DAG folder (airflow.dags_dir). */
export const DAG_FILE = 'example_secrets_dag.py';

export function sandboxPaths(dir: string): SandboxPaths {
  const stateDir = join(dir, '.sandbox');
  return {
    dir,
    config: join(dir, CONFIG_FILE),
    env: join(dir, '.env'),
    dockerEnv: join(dir, 'docker.env'),
    gitignore: join(dir, '.gitignore'),
    stateDir,
    state: join(stateDir, 'state.json'),
    serverOut: join(stateDir, 'server.out'),
    serverLog: join(stateDir, 'server.log'),
    written: join(stateDir, 'written.json'),
    lock: join(stateDir, 'lock'),
    home: join(stateDir, 'home'),
    airflowHome: join(stateDir, 'airflow'),
  };
}

/**
 * The sandbox a command means, the same for every command: the dir given, else the current dir
 * when it holds secrets-sandbox.yaml, else ./secrets-sandbox.
 */
export function findSandboxDir(dirArg: string | undefined, cwd: string = process.cwd()): string {
  if (dirArg !== undefined) return resolve(cwd, dirArg);
  if (existsSync(join(cwd, CONFIG_FILE))) return resolve(cwd);
  return resolve(cwd, DEFAULT_SANDBOX_DIR);
}

/** The server this sandbox started, as recorded the moment it was spawned. */
export interface ServerState {
  pid: number;
  address: string;
  url: string;
  flavour: Flavour;
  version: string;
  bin: string;
  /** Size and mtime of the binary, so its identity can be reused while it is unchanged. */
  binStamp?: string;
  startedAt: string;
  /** Whether the root token was chosen by the user (--root-token) or made by the server. */
  tokenSource: 'server' | 'user';
  /** The sandbox id the server was given in its environment (SECRETS_SANDBOX_ID). */
  sandboxId?: string;
}

export interface SandboxFacts {
  /** Random; handed to the server in its environment, so its identity can be proven. */
  sandboxId: string;
  /** The dir these facts were recorded for: a copied sandbox dir carries another dir's facts. */
  dir: string;
  /** The server binary last used, and what it is. */
  bin?: string;
  binStamp?: string;
  flavour?: Flavour;
  version?: string;
  /** The address last bound (the port actually used, which may not be the one asked for). */
  address?: string;
  /** The Airflow last found or installed. */
  airflowBin?: string;
  airflowVersion?: string;
  /** The config file the last run read. */
  configFile?: string;
  /**
   * The symlinks leaving the sandbox when it was created (path relative to the dir -> target), which
   * the trust boundary accepts; any other link out is refused. Absent until the first run records it.
   */
  links?: Record<string, string>;
  /** Present while a server is recorded. */
  server?: { pid: number; address: string; url: string; startedAt: string; tokenSource: 'server' | 'user' };
  /** The Airflow components of `--check run`, from their spawn until they are proven gone (or kept: --keep). */
  airflowRun?: AirflowRunRecord;
}

export type FactsStatus = 'missing' | 'corrupt' | 'ok' | 'copied';

export function newSandboxId(): string {
  return randomBytes(12).toString('hex');
}

function sameDir(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * The facts for this dir. `corrupt`: the file exists but is not ours to read (reported as such,
 * never as missing). `copied`: it was recorded for another dir, so its server and id are not ours.
 */
export function readFacts(paths: SandboxPaths): { status: FactsStatus; facts: SandboxFacts; error?: string } {
  const fresh = (): SandboxFacts => ({ sandboxId: newSandboxId(), dir: paths.dir });
  // Unreadable (another user's sandbox, EACCES), a FIFO or too large: a FileError (exit 2), never "corrupt".
  const text = readUserFileIfExists(paths.state, {
    what: "the sandbox's state",
    maxBytes: MAX_RECORD_BYTES,
    ownerCheck: true,
    noFollow: true,
    fix: `run this as the sandbox's owner, or remove '${paths.state}' to start its record afresh`,
  });
  if (text === null) return { status: 'missing', facts: fresh() };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { status: 'corrupt', facts: fresh(), error: `is not JSON (${(e as Error).message.split('\n')[0]})` };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return { status: 'corrupt', facts: fresh(), error: 'is not a JSON object' };
  const r = raw as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
  const facts: SandboxFacts = {
    sandboxId: str('sandboxId') ?? newSandboxId(),
    dir: str('dir') ?? paths.dir,
    bin: str('bin'),
    binStamp: str('binStamp'),
    flavour: str('flavour') === 'Vault' || str('flavour') === 'OpenBao' ? (str('flavour') as Flavour) : undefined,
    version: str('version'),
    address: str('address'),
    airflowBin: str('airflowBin'),
    airflowVersion: str('airflowVersion'),
    configFile: str('configFile'),
    airflowRun: parseRunRecord(r.airflowRun),
    links: stringRecord(r.links),
  };
  const s = r.server;
  if (s && typeof s === 'object') {
    const sv = s as Record<string, unknown>;
    if (
      typeof sv.pid === 'number' &&
      Number.isInteger(sv.pid) &&
      sv.pid > 0 &&
      typeof sv.address === 'string' &&
      typeof sv.url === 'string'
    ) {
      facts.server = {
        pid: sv.pid,
        address: sv.address,
        url: sv.url,
        startedAt: String(sv.startedAt ?? ''),
        tokenSource: sv.tokenSource === 'user' ? 'user' : 'server',
      };
    } else {
      return {
        status: 'corrupt',
        facts: { ...facts, server: undefined },
        error: 'has a server record without a valid pid and address',
      };
    }
  } else if (typeof r.pid === 'number' && typeof r.address === 'string' && typeof r.url === 'string') {
    // The flat layout of earlier versions.
    facts.server = {
      pid: r.pid,
      address: r.address,
      url: r.url,
      startedAt: String(r.startedAt ?? ''),
      tokenSource: r.tokenSource === 'user' ? 'user' : 'server',
    };
    facts.address ??= r.address;
  }
  if (!sameDir(facts.dir, paths.dir)) {
    // Copied from another sandbox: its server and its id belong to the other dir.
    return {
      status: 'copied',
      facts: { ...facts, sandboxId: newSandboxId(), dir: paths.dir, server: undefined, airflowRun: undefined },
    };
  }
  return { status: 'ok', facts };
}

/** A JSON object of strings, kept without a prototype (a key `__proto__` is an ordinary key). */
function stringRecord(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

export function writeFacts(paths: SandboxPaths, facts: SandboxFacts): void {
  writePrivateFile(paths.state, JSON.stringify(facts, null, 2) + '\n', 0o600);
}

/** The recorded server, for callers that only need it (doctor, status): null when none is recorded for this dir. */
export function readState(paths: SandboxPaths): ServerState | null {
  const { status, facts } = readFacts(paths);
  if (status !== 'ok' || !facts.server) return null;
  return {
    ...facts.server,
    flavour: facts.flavour ?? 'OpenBao',
    version: facts.version ?? '',
    bin: facts.bin ?? '',
    binStamp: facts.binStamp,
    sandboxId: facts.sandboxId,
  };
}

/** Records a server (the rest of the facts are kept). */
export function writeState(paths: SandboxPaths, state: ServerState): void {
  const { facts } = readFacts(paths);
  writeFacts(paths, {
    ...facts,
    sandboxId: state.sandboxId ?? facts.sandboxId,
    dir: paths.dir,
    bin: state.bin,
    binStamp: state.binStamp,
    flavour: state.flavour,
    version: state.version,
    address: state.address,
    server: {
      pid: state.pid,
      address: state.address,
      url: state.url,
      startedAt: state.startedAt,
      tokenSource: state.tokenSource,
    },
  });
}

/** Forgets the server (it is proven gone), keeping what was learned about binary, port and Airflow. */
export function clearServer(paths: SandboxPaths): void {
  const { status, facts } = readFacts(paths);
  if (status === 'missing') return;
  writeFacts(paths, { ...facts, server: undefined });
}

/** Records the Airflow components of a run (undefined: they are gone), the rest of the facts kept. */
export function writeAirflowRun(paths: SandboxPaths, run: AirflowRunRecord | undefined): void {
  const { status, facts } = readFacts(paths);
  if (status === 'missing' && !run) return;
  writeFacts(paths, { ...facts, airflowRun: run });
}
