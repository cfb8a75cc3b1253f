/**
 * The one model of a sandbox: from the directory argument (and --config), every fact about it —
 * its dir and id, the config file (resolved once), every path (src/sandbox/layout.ts), the facts of
 * earlier runs with the server record and the seeded set (src/sandbox/facts.ts), and the server
 * that is this sandbox's by identity (the sandbox id in its environment and the private HOME as
 * its cwd, never the path: a renamed dir keeps its server, a copied one does not).
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { loadConfig, type ConfigFile } from '../config.js';
import { UsageError } from '../errors.js';
import { assertTrusted } from '../io/trust.js';
import { readTargetRecord, type TargetRecord } from '../target/index.js';
import { addressUrl, parseAddress } from '../vault/address.js';
import { findServers, listenAddressOf, proveOurs, type Proof } from '../vault/identity.js';
import { processCommandLine } from '../vault/server.js';
import { type FactsRead, readFacts, type SandboxFacts, type SeededSet, type ServerRecord } from './facts.js';
import { findSandboxDir, fromSandbox, sandboxLayout, type SandboxPaths } from './layout.js';
import { assertSandboxTrusted, configEntries, recordEntries } from './trust.js';

export * from './entries.js';
export * from './facts.js';
export * from './layout.js';
export { removeCreated, snapshotBefore, type Snapshot } from './leftovers.js';
export { assertSandboxTrusted, sandboxLinks } from './trust.js';

/** Where the config file in use came from. */
export type ConfigSource = '--config' | 'state' | 'default';

export interface SandboxConfig {
  file: string;
  source: ConfigSource;
  /** How messages name it: as the user typed --config, else relative to the current dir. */
  label: string;
  exists: boolean;
  /** The parsed config (undefined when absent); `error` when it cannot be read or parsed. */
  parsed?: ConfigFile;
  error?: UsageError;
}

export interface Sandbox {
  dir: string;
  /** The sandbox id (state.json; a fresh one for a new or copied sandbox until a run records it). */
  id: string;
  /** A sandbox lives here: its config or its state exists. */
  exists: boolean;
  paths: SandboxPaths;
  config: SandboxConfig;
  facts: FactsRead;
  /** The record of the server this sandbox started (or intends to), when there is one. */
  server?: ServerRecord;
  /** What the last seeding wrote to Vault, when a run recorded it. */
  seeded?: SeededSet;
  /** The existing Vault this sandbox uses instead of a server of its own. */
  target: TargetRecord | null;
}

export interface OpenOptions {
  /** --config FILE. */
  config?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The config file: --config, else the one the state names (while it exists), else <dir>/secrets-sandbox.yaml. */
export function resolveConfigFile(
  dir: string,
  facts: SandboxFacts,
  flag: string | undefined,
  cwd: string = process.cwd(),
): { file: string; source: ConfigSource; label: string } {
  if (flag !== undefined) return { file: resolve(cwd, flag), source: '--config', label: flag };
  const recorded = facts.configFile ? fromSandbox(dir, facts.configFile) : undefined;
  const label = (f: string) => relative(cwd, f) || f;
  if (recorded !== undefined && existsSync(recorded))
    return { file: recorded, source: 'state', label: label(recorded) };
  const file = sandboxLayout(dir).config;
  return { file, source: 'default', label: label(file) };
}

async function readConfig(c: { file: string; source: ConfigSource; label: string }): Promise<SandboxConfig> {
  const exists = existsSync(c.file);
  if (!exists && c.source !== '--config') return { ...c, exists };
  try {
    return { ...c, exists, parsed: await loadConfig(c.file, c.label) };
  } catch (e) {
    if (e instanceof UsageError) return { ...c, exists, error: e };
    throw e;
  }
}

/** The folder of the example DAG the config names (relative to the sandbox dir), else the default. */
function dagsDirOf(config: ConfigFile | undefined): string | undefined {
  const d = config?.airflow?.dags_dir;
  return typeof d === 'string' && d !== '' ? d : undefined;
}

/**
 * The sandbox `dirArg` (and --config) means. Nothing of it is read before the trust boundary
 * (src/io/trust.ts) has passed what is about to be read: the dir and the records first, then the
 * config file, then every other entry (the env files, the venv, the DAG folder): a sandbox another
 * user controls is refused (exit 2, naming the path and its owner) before anything of it is used.
 */
export async function openSandbox(dirArg: string | undefined, o: OpenOptions = {}): Promise<Sandbox> {
  const cwd = o.cwd ?? process.cwd();
  const env = o.env ?? process.env;
  const dir = findSandboxDir(dirArg, cwd);
  const base = sandboxLayout(dir);
  assertTrusted(recordEntries(base), { sandboxDir: dir, env });
  const facts = readFacts(base);
  const links = facts.facts.links;
  const resolved = resolveConfigFile(dir, facts.facts, o.config, cwd);
  assertTrusted(configEntries({ config: resolved.file }, base.config), { sandboxDir: dir, links, env });
  const config = await readConfig(resolved);
  const paths = sandboxLayout(dir, { config: config.file, dagsDir: dagsDirOf(config.parsed) });
  assertSandboxTrusted(paths, base.config, { links }, env);
  return {
    dir,
    id: facts.facts.sandboxId,
    exists: config.exists || facts.status !== 'missing',
    paths,
    config,
    facts,
    server: facts.facts.server,
    seeded: facts.facts.seeded,
    target: readTargetRecord(paths.target),
  };
}

/** Identity as this sandbox knows it now: its id and its private HOME (which moves with a renamed dir). */
export function identityOf(sb: Pick<Sandbox, 'id' | 'paths'>): { sandboxId: string; home: string } {
  return { sandboxId: sb.id, home: sb.paths.home };
}

/** Whether `pid` is this sandbox's server on `address` (vault/identity.ts). */
export function proveServer(sb: Pick<Sandbox, 'id' | 'paths'>, pid: number, address: string): Proof {
  return proveOurs(pid, { address, ...identityOf(sb) });
}

/**
 * Every live server that is this sandbox's: the recorded pid when proven ours, and any other
 * process carrying the sandbox id with the private HOME as its cwd (a run cut between the spawn and
 * the pid's record, a dir renamed while its server ran).
 */
export function serversOf(sb: Pick<Sandbox, 'id' | 'paths' | 'server'>): number[] {
  const pids = new Set(findServers(identityOf(sb)));
  const rec = sb.server;
  if (rec?.pid !== undefined && proveServer(sb, rec.pid, rec.address).ours) pids.add(rec.pid);
  return [...pids].sort((a, b) => a - b);
}

export interface RunningServer {
  pid: number;
  address: string;
  url: string;
}

/** Where a found server listens, from its command line (the record's url when it is the recorded address). */
function runningOf(sb: Pick<Sandbox, 'server'>, pid: number): RunningServer | undefined {
  const cmd = processCommandLine(pid);
  const address = cmd ? listenAddressOf(cmd) : undefined;
  if (!cmd || !address) return undefined;
  if (sb.server && sb.server.address === address) return { pid, address, url: sb.server.url };
  try {
    return { pid, address, url: addressUrl(parseAddress(address), cmd.includes('-dev-tls')) };
  } catch {
    return undefined;
  }
}

/**
 * This sandbox's running server (the recorded pid first, else one on the recorded address, else
 * any), and the pids of any other server that is also this sandbox's (to be stopped).
 */
export function runningServers(sb: Pick<Sandbox, 'id' | 'paths' | 'server'>): {
  server?: RunningServer;
  extra: number[];
} {
  const pids = serversOf(sb);
  const rec = sb.server;
  const servers = pids.map((p) => runningOf(sb, p)).filter((r): r is RunningServer => r !== undefined);
  const keep = servers.find((r) => r.pid === rec?.pid) ?? servers.find((r) => r.address === rec?.address) ?? servers[0];
  return { server: keep, extra: pids.filter((p) => p !== keep?.pid) };
}

/** The same sandbox with its facts read again (another run may have changed them meanwhile). */
export function reloadFacts(sb: Sandbox): Sandbox {
  const facts = readFacts(sb.paths);
  return { ...sb, id: facts.facts.sandboxId, facts, server: facts.facts.server, seeded: facts.facts.seeded };
}
