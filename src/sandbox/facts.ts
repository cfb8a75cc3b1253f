/**
 * `.sandbox/state.json`: the facts runs found or chose (port bound, server binary, Airflow, the
 * sandbox id, the config file in use, the server, the seeded set), never written into the config as
 * if the user had said them. Each fact that a later run depends on is recorded BEFORE the side
 * effect it describes (the server before its spawn, the seeded ids before the writes), so a run cut
 * anywhere leaves a record the next run converges from.
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { FileError, StepError, writeFailure } from '../errors.js';
import { writePrivateFile } from '../io/private.js';
import { MAX_RECORD_BYTES, readUserFileIfExists } from '../io/read.js';
import type { Flavour } from '../vault/binary.js';
import { parseRunRecord, type AirflowRunRecord } from '../airflow/run/record.js';
import { relativeToSandbox, sandboxLayout, type SandboxPaths } from './layout.js';

/** The server this sandbox starts: recorded before the spawn, its pid added the moment it exists. */
export interface ServerRecord {
  /** Absent between the record and the spawn, or when the CLI died in between: identity finds it. */
  pid?: number;
  address: string;
  url: string;
  /** The server's private HOME when it was started (identity uses the sandbox's HOME now: a renamed dir moves it). */
  home?: string;
  startedAt: string;
  /** Whether the root token was chosen by the user (--root-token) or made by the server. */
  tokenSource: 'server' | 'user';
}

/** Every connection id and variable key the last seeding wrote to Vault (the default example included). */
export interface SeededSet {
  connections: string[];
  variables: string[];
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
  /** The config file the last run read: relative to the sandbox dir when inside it. */
  configFile?: string;
  /**
   * The symlinks leaving the sandbox when it was created (path relative to the dir -> target), which
   * the trust boundary accepts; any other link out is refused. Absent until the first run records it.
   */
  links?: Record<string, string>;
  server?: ServerRecord;
  seeded?: SeededSet;
  /** The Airflow components of `--check run`, recorded the moment they start, until proven gone (or kept: --keep). */
  airflowRun?: AirflowRunRecord;
}

/**
 * `corrupt`: it was read and is not a state of ours; `copied`: recorded for another dir that still
 * holds the same sandbox, so its server and id are not ours; `moved`: recorded for a dir that no
 * longer holds it (renamed): the id and the server are still ours. A state this user may not read
 * (another user's sandbox, a FIFO, a link) is none of these: reading it throws a FileError (exit 2).
 */
export type FactsStatus = 'missing' | 'corrupt' | 'ok' | 'copied' | 'moved';

export interface FactsRead {
  status: FactsStatus;
  facts: SandboxFacts;
  /** For corrupt: what is wrong, in words that follow "state.json ...". */
  error?: string;
}

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

/** The state's text, null when there is none; a file that cannot be read safely is a FileError (exit 2). */
function readStateText(file: string): string | null {
  return readUserFileIfExists(file, {
    what: "the sandbox's state",
    maxBytes: MAX_RECORD_BYTES,
    ownerCheck: true,
    noFollow: true,
    fix: `run this as the sandbox's owner, or remove '${file}' to start its record afresh`,
  });
}

/** A JSON object of strings, kept without a prototype (a key `__proto__` is an ordinary key). */
function stringRecord(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

const str = (r: Record<string, unknown>, k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function serverOf(r: Record<string, unknown>): ServerRecord | undefined | 'invalid' {
  const s = r.server;
  if (s && typeof s === 'object') {
    const sv = s as Record<string, unknown>;
    const pidOk = sv.pid === undefined || (typeof sv.pid === 'number' && Number.isInteger(sv.pid) && sv.pid > 0);
    if (!pidOk || typeof sv.address !== 'string' || typeof sv.url !== 'string') return 'invalid';
    return {
      ...(typeof sv.pid === 'number' ? { pid: sv.pid } : {}),
      address: sv.address,
      url: sv.url,
      ...(typeof sv.home === 'string' ? { home: sv.home } : {}),
      startedAt: String(sv.startedAt ?? ''),
      tokenSource: sv.tokenSource === 'user' ? 'user' : 'server',
    };
  }
  if (typeof r.pid === 'number' && typeof r.address === 'string' && typeof r.url === 'string') {
    // The flat layout of earlier versions.
    return {
      pid: r.pid,
      address: r.address,
      url: r.url,
      startedAt: String(r.startedAt ?? ''),
      tokenSource: r.tokenSource === 'user' ? 'user' : 'server',
    };
  }
  return undefined;
}

function factsOf(r: Record<string, unknown>, dir: string): SandboxFacts {
  const flavour = str(r, 'flavour');
  const seeded = r.seeded as Record<string, unknown> | undefined;
  return {
    sandboxId: str(r, 'sandboxId') ?? newSandboxId(),
    dir: str(r, 'dir') ?? dir,
    bin: str(r, 'bin'),
    binStamp: str(r, 'binStamp'),
    flavour: flavour === 'Vault' || flavour === 'OpenBao' ? flavour : undefined,
    version: str(r, 'version'),
    address: str(r, 'address'),
    airflowBin: str(r, 'airflowBin'),
    airflowVersion: str(r, 'airflowVersion'),
    configFile: str(r, 'configFile'),
    links: stringRecord(r.links),
    airflowRun: parseRunRecord(r.airflowRun),
    ...(seeded && typeof seeded === 'object'
      ? { seeded: { connections: strings(seeded.connections), variables: strings(seeded.variables) } }
      : {}),
  };
}

/** The id recorded in another dir's state, when it has one this user may read. */
function idRecordedIn(dir: string): string | undefined {
  try {
    const text = readStateText(sandboxLayout(dir).state);
    const r = text === null ? null : (JSON.parse(text) as Record<string, unknown>);
    return r && typeof r === 'object' ? str(r, 'sandboxId') : undefined;
  } catch (e) {
    if (e instanceof FileError || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** The facts for this dir, with what kind of record they came from (see FactsStatus). */
export function readFacts(paths: Pick<SandboxPaths, 'dir' | 'state'>): FactsRead {
  const fresh = (): SandboxFacts => ({ sandboxId: newSandboxId(), dir: paths.dir });
  const text = readStateText(paths.state);
  if (text === null) return { status: 'missing', facts: fresh() };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { status: 'corrupt', facts: fresh(), error: 'is not JSON' };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return { status: 'corrupt', facts: fresh(), error: 'is not a JSON object' };
  const r = raw as Record<string, unknown>;
  const facts = factsOf(r, paths.dir);
  const server = serverOf(r);
  if (server === 'invalid')
    return { status: 'corrupt', facts, error: 'has a server record without a valid pid and address' };
  if (server) {
    facts.server = server;
    facts.address ??= server.address;
  }
  if (sameDir(facts.dir, paths.dir)) return { status: 'ok', facts };
  // Recorded for another dir. The config the state names moves with the dir when it was inside it.
  if (facts.configFile) facts.configFile = relativeToSandbox(facts.dir, facts.configFile);
  if (idRecordedIn(facts.dir) === facts.sandboxId) {
    // Copied: the other dir still holds this sandbox, with its server and its id.
    return {
      status: 'copied',
      facts: {
        ...facts,
        sandboxId: newSandboxId(),
        dir: paths.dir,
        server: undefined,
        seeded: undefined,
        airflowRun: undefined,
      },
    };
  }
  // Renamed (or moved): the id, the server and what was seeded are still this sandbox's.
  return { status: 'moved', facts: { ...facts, dir: paths.dir } };
}

/** The state files this process has written: one of them gone means its sandbox moved under the run. */
const writtenByThisRun = new Set<string>();

/** Writes the facts; a failure is the step's error, naming the file and the way out. */
export function writeFacts(paths: Pick<SandboxPaths, 'dir' | 'state'>, facts: SandboxFacts, step: string): void {
  const kept: SandboxFacts = {
    ...facts,
    dir: paths.dir,
    ...(facts.configFile ? { configFile: relativeToSandbox(paths.dir, facts.configFile) } : {}),
  };
  try {
    writePrivateFile(paths.state, `${JSON.stringify(kept, null, 2)}\n`, 0o600);
  } catch (e) {
    throw writeFailure(step, paths.state, e);
  }
  writtenByThisRun.add(paths.state);
}

/**
 * Read, change, write: the rest of the facts are kept (a corrupt file starts fresh). A record this
 * run wrote that is gone now (the sandbox dir renamed or removed meanwhile) is the step's failure:
 * writing it again would make a new sandbox at the old path, naming a server that is not its own.
 */
export function updateFacts(
  paths: Pick<SandboxPaths, 'dir' | 'state'>,
  step: string,
  change: (f: SandboxFacts) => SandboxFacts,
): SandboxFacts {
  const { status, facts } = readFacts(paths);
  if (status === 'missing' && writtenByThisRun.has(paths.state))
    throw new StepError(
      step,
      `${paths.state} is gone: the sandbox dir was moved or removed during this run`,
      MOVED_FIX,
    );
  const next = change(facts);
  writeFacts(paths, next, step);
  return next;
}

const MOVED_FIX = 'rerun in the sandbox dir where it is now (down there stops its server)';

/** The intent to start a server, recorded before the spawn: the id, the address, the HOME (see vault/identity.ts). */
export function recordServerIntent(
  paths: Pick<SandboxPaths, 'dir' | 'state' | 'home'>,
  step: string,
  s: { sandboxId: string; address: string; url: string; tokenSource: 'server' | 'user' },
): void {
  updateFacts(paths, step, (f) => ({
    ...f,
    sandboxId: s.sandboxId,
    address: s.address,
    server: {
      address: s.address,
      url: s.url,
      home: paths.home,
      startedAt: new Date().toISOString(),
      tokenSource: s.tokenSource,
    },
  }));
}

/**
 * The pid of the server recorded as intended (and, once known, the binary it runs). False, and
 * nothing written, when the intent is gone: the sandbox dir was moved or removed under the run, and
 * a record written here would be a new sandbox's, naming a server that is not its own.
 */
export function recordServerStarted(
  paths: Pick<SandboxPaths, 'dir' | 'state'>,
  step: string,
  s: { pid: number; url: string; bin?: string; binStamp?: string; flavour?: Flavour; version?: string },
): boolean {
  const { facts: f } = readFacts(paths);
  if (!f.server) return false;
  const bin = s.bin !== undefined ? { bin: s.bin, binStamp: s.binStamp, flavour: s.flavour, version: s.version } : {};
  writeFacts(paths, { ...f, ...bin, server: { ...f.server, pid: s.pid, url: s.url } }, step);
  return true;
}

/** Forgets the server (it is proven gone), keeping what was learned about binary, port and Airflow. */
export function clearServer(paths: Pick<SandboxPaths, 'dir' | 'state'>, step: string): void {
  const { status, facts } = readFacts(paths);
  if (status === 'missing' || !facts.server) return;
  writeFacts(paths, { ...facts, server: undefined }, step);
}

/** The ids this run is about to write to Vault (recorded first: a cut run's doctor still knows what to ask). */
export function recordSeeded(paths: Pick<SandboxPaths, 'dir' | 'state'>, step: string, seeded: SeededSet): void {
  updateFacts(paths, step, (f) => ({ ...f, seeded }));
}

/** Records the Airflow components of a run (undefined: they are proven gone), the rest of the facts kept. */
export function recordAirflowRun(
  paths: Pick<SandboxPaths, 'dir' | 'state'>,
  step: string,
  run: AirflowRunRecord | undefined,
): void {
  const { status, facts } = readFacts(paths);
  if (!run && (status === 'missing' || !facts.airflowRun)) return;
  writeFacts(paths, { ...facts, airflowRun: run }, step);
}
