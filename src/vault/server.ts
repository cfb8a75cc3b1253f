/**
 * The dev server process: start it detached with its output in files (never a pipe: the server
 * would die of SIGPIPE once the CLI exits, deps.md §3), read the banner, tell our server from a
 * recycled pid, and stop it.
 */
import { spawn } from 'node:child_process';
import { closeSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cancelled, StepError } from '../errors.js';
import { ensurePrivateDir, openPrivateFile } from '../io/private.js';
import { MAX_TEXT_BYTES, MAX_TOKEN_BYTES, readUserFileIfExists, readUserFileWindowIfExists } from '../io/read.js';
import { assertTrustedExecutable } from '../io/trust.js';
import { isAlive } from '../process-table.js';
import { parseAddress, portIsFree } from './address.js';
import { parseBanner, type Banner } from './banner.js';
import type { ServerBinary } from './binary.js';
import { devTlsArgs } from './tls.js';

export interface StartOptions {
  binary: ServerBinary;
  listen: string; // HOST:PORT
  rootToken?: string;
  /** Serve HTTPS with `-dev-tls`, its CA and certificate written here (the dir must exist). */
  tlsCertDir?: string;
  /** KV version of the dev server's `secret/` mount (the hidden -dev-kv-v1 flag gives v1). */
  kvVersion?: 1 | 2;
  stdoutFile: string;
  stderrFile: string;
  /** A private HOME for the child, so no version of the server can write the user's ~/.vault-token. */
  homeDir: string;
  timeoutMs?: number;
  /** Called with the pid as soon as the process exists, so an interrupt can still stop it. */
  onSpawn?: (pid: number) => void;
  /** This sandbox's id, handed to the server in its environment so its identity can be proven (vault/identity.ts). */
  sandboxId?: string;
  /**
   * True once the server serves `token` and its `secret/` mount. Given one, the start does not wait
   * for the banner, which the server prints only after a spell of log quiet (vault.md §1.5): the
   * token is the one we chose, or the one the server stores in its private HOME as soon as it made it.
   */
  readyProbe?: (token: string) => Promise<boolean>;
  /** Aborted when the run is interrupted: the wait ends (the caller stops the server it recorded). */
  signal?: AbortSignal;
}

export interface StartedServer {
  pid: number;
  rootToken: string;
  unsealKey?: string;
}

/** Why the dev server refuses a custom root token id (vault.md §2), or null. */
export function rootTokenProblem(id: string): string | null {
  if (id.length === 0) return 'is empty';
  if (id.includes('.')) return "contains '.', which the server refuses in a custom token id";
  if (/\s/.test(id)) return 'contains white space';
  return null;
}

export function devServerArgs(
  binary: ServerBinary,
  listen: string,
  kvVersion: 1 | 2 = 2,
  tlsCertDir?: string,
): string[] {
  // No -dev-no-store-token: the token file the server writes into its private HOME (never the
  // user's) is how we learn a server-made token without the banner's wait.
  const args = ['server', '-dev', `-dev-listen-address=${listen}`];
  if (kvVersion === 1) args.push('-dev-kv-v1');
  if (tlsCertDir) args.push(...devTlsArgs(tlsCertDir, listen.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')));
  return args;
}

function childEnv(opts: StartOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: opts.homeDir, VAULT_CLI_NO_COLOR: '1', BAO_CLI_NO_COLOR: '1' };
  // An inherited dev token or listen address would silently override ours.
  // A token path or CLI config (token_helper) of the user's would send the server's token file
  // out of the private HOME, over the user's own ~/.vault-token.
  for (const k of [
    'VAULT_DEV_ROOT_TOKEN_ID',
    'BAO_DEV_ROOT_TOKEN_ID',
    'VAULT_DEV_LISTEN_ADDRESS',
    'BAO_DEV_LISTEN_ADDRESS',
    'VAULT_TOKEN',
    'BAO_TOKEN',
    'VAULT_TOKEN_PATH',
    'BAO_TOKEN_PATH',
    'VAULT_CONFIG_PATH',
    'BAO_CONFIG_PATH',
  ]) {
    delete env[k];
  }
  if (opts.sandboxId) env.SECRETS_SANDBOX_ID = opts.sandboxId;
  if (opts.rootToken) {
    // Through the environment, not argv: argv is world-readable in /proc and `ps`. Both names, so
    // it holds before `version` has said which server this is.
    env.VAULT_DEV_ROOT_TOKEN_ID = opts.rootToken;
    env.BAO_DEV_ROOT_TOKEN_ID = opts.rootToken;
  }
  return env;
}

export async function startServer(opts: StartOptions): Promise<StartedServer> {
  assertTrustedExecutable(opts.binary.path, 'the server binary');
  ensurePrivateDir(dirname(opts.homeDir));
  ensurePrivateDir(opts.homeDir);
  // Fresh files, never through a symlink or into another user's file: the banner holds the root
  // token. Fresh also because an old banner would hand us a dead server's token.
  const outFd = openPrivateFile(opts.stdoutFile, 0o600);
  let errFd: number;
  try {
    errFd = openPrivateFile(opts.stderrFile, 0o600);
  } catch (e) {
    closeSync(outFd);
    throw e;
  }
  // A token file left by an earlier server in this HOME names a dead token.
  const tokenFile = serverTokenFile(opts.homeDir);
  rmSync(tokenFile, { force: true });
  let child;
  try {
    child = spawn(opts.binary.path, devServerArgs(opts.binary, opts.listen, opts.kvVersion, opts.tlsCertDir), {
      detached: true,
      stdio: ['ignore', outFd, errFd],
      env: childEnv(opts),
      cwd: opts.homeDir,
    });
  } finally {
    closeSync(outFd);
    closeSync(errFd);
  }
  let spawnError: Error | undefined;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on('error', (e) => (spawnError = e));
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const pid = child.pid;
  if (pid === undefined) {
    await sleep(10);
    throw new StepError(
      'start',
      `could not run ${opts.binary.path}: ${spawnError?.message ?? 'spawn failed'}`,
      'check that the file is a working vault or bao binary',
    );
  }
  opts.onSpawn?.(pid);
  child.unref();

  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let banner: Banner = { errors: [] };
  for (;;) {
    banner = parseBanner(readServerOutput(opts.stdoutFile) ?? '');
    if (banner.rootToken) return { pid, rootToken: banner.rootToken, unsealKey: banner.unsealKey };
    const token = opts.rootToken ?? readTokenFile(tokenFile);
    if (token && opts.readyProbe && !exited && (await opts.readyProbe(token))) return { pid, rootToken: token };
    if (opts.signal?.aborted) throw new Cancelled('the start was interrupted');
    if (exited || spawnError) throw await exitedEarly(opts, banner, exited ?? { code: null, signal: null });
    if (Date.now() > deadline) {
      await stopAndWait(pid);
      const said = serverSaid(banner, opts.stderrFile);
      throw new StepError(
        'start',
        `the server printed no 'Root Token:' line within ${Math.round((opts.timeoutMs ?? 20_000) / 1000)} s${said ? `; it said: ${said}` : ''}`,
        `see ${opts.stdoutFile} and ${opts.stderrFile}`,
        { files: [opts.stdoutFile, opts.stderrFile] },
      );
    }
    // Once the token is there, secret/ is mounted almost at once: look again soon.
    await sleep(token ? 2 : 5);
  }
}

/** Where the dev server stores its root token: `~/.vault-token` of its HOME (Vault and OpenBao alike, vault.md §2). */
export function serverTokenFile(homeDir: string): string {
  return join(homeDir, '.vault-token');
}

/** The token in the server's token file, once it is there (written whole: temp file, then rename). */
function readTokenFile(file: string): string | undefined {
  try {
    return privateText(file, 'the server token file', MAX_TOKEN_BYTES)?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A file the server wrote into the sandbox's private dir: ours, a regular file, never through a link. */
function privateText(file: string, what: string, maxBytes: number): string | null {
  return readUserFileIfExists(file, { what, maxBytes, ownerCheck: true, noFollow: true });
}

/** The server's stdout: its banner (with the root token), small. */
function readServerOutput(file: string): string | null {
  return privateText(file, "the server's output", MAX_TEXT_BYTES);
}

/** The end of the server's log, where the reason it stopped is: a long-running server's log can be large. */
const LOG_TAIL_BYTES = 64 * 1024;

function serverSaid(banner: Banner, stderrFile: string): string {
  if (banner.errors.length) return banner.errors.join(' ');
  const log =
    readUserFileWindowIfExists(stderrFile, {
      what: "the server's log",
      maxBytes: LOG_TAIL_BYTES,
      from: 'end',
      ownerCheck: true,
      noFollow: true,
    }) ?? '';
  const lines = log.split('\n').filter((l) => /\[(ERROR|WARN)\]|error|Error/.test(l));
  return (lines.slice(-2).join(' ') || log.trim().split('\n').slice(-1)[0] || '').trim();
}

/** The server exited before it was ready: a taken address is told by the port itself, not by the server's words. */
async function exitedEarly(
  opts: StartOptions,
  banner: Banner,
  exit: { code: number | null; signal: NodeJS.Signals | null },
): Promise<StepError> {
  const said = serverSaid(banner, opts.stderrFile);
  const how = exit.signal ? ` (killed by ${exit.signal})` : exit.code !== null ? ` (exit ${exit.code})` : '';
  // Its own words when it left any; a server killed from outside often leaves none.
  const message = said
    ? `the server exited before it was ready${how}: ${said}`
    : `the server exited before it was ready${how} and wrote no error to its log`;
  let taken = false;
  try {
    // The dev server binds PORT+1 too, for its cluster listener.
    const a = parseAddress(opts.listen);
    taken = !(await portIsFree(a)) || !(await portIsFree({ host: a.host, port: a.port + 1 }));
  } catch {
    /* an address we cannot parse is not a taken one */
  }
  if (taken)
    return new StepError(
      'start',
      message,
      `${opts.listen} is taken: stop whatever listens there, or pick another port with --address`,
      {
        kind: 'address-in-use',
      },
    );
  return new StepError(
    'start',
    message,
    `see ${opts.stderrFile}; a server too old for these -dev flags needs a current Vault or OpenBao`,
    { files: [opts.stderrFile] },
  );
}

// Where a process's facts are read (src/process-table.ts): re-exported for the callers that know them from here.
export { isAlive, processCommandLine } from '../process-table.js';

/**
 * SIGTERM the server's process group, wait until it is gone (a zombie counts as gone), SIGKILL
 * after `graceMs`. Returns whether it is gone: the caller says "stopped" only then.
 */
export async function stopAndWait(pid: number, graceMs = 10_000, killWaitMs = 5_000): Promise<boolean> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone, or not ours to signal (EPERM): the wait below tells */
      }
    }
  };
  signal('SIGTERM');
  let deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(25);
  if (!isAlive(pid)) return true;
  signal('SIGKILL');
  deadline = Date.now() + killWaitMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(25);
  return !isAlive(pid);
}

/**
 * The banner, with the root token. The CLI learns a server-made token from the server's token file
 * (see startServer) before the banner is printed, so a command run right after may find no token in
 * it yet: it then takes the token file in the server's private HOME.
 */
export function readBanner(stdoutFile: string, homeDir: string): Banner {
  const out = readServerOutput(stdoutFile);
  const banner: Banner = out === null ? { errors: [] } : parseBanner(out);
  if (!banner.rootToken) {
    const token = readTokenFile(serverTokenFile(homeDir));
    if (token) return { ...banner, rootToken: token };
  }
  return banner;
}
