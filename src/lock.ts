/**
 * One run at a time per sandbox: `.sandbox/lock` holds the pid of the run changing it and a hash of
 * its command line (never the line itself: it may carry a password), created exclusively (O_EXCL,
 * never following a link). A lock whose holder is gone,
 * or is a live process that is not this tool (a recycled pid, a planted file), is taken over; a
 * live run of this tool is waited for a while, then the run stops naming the other pid.
 */
import { closeSync, constants, mkdirSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoOf, FileError, StepError, writeFailure } from './errors.js';
import { readUserFile } from './io/read.js';
import { sha256 } from './io/write.js';
import type { SandboxPaths } from './sandbox/index.js';
import { isAlive, processCommandLine } from './vault/server.js';

export interface Lock {
  release(): void;
}

const STEP = 'lock';

interface Holder {
  pid: number;
  /** The hash of the holder's command line; absent in a lock of an earlier version (or a planted one). */
  cmdHash?: string;
}

const hashOf = (cmd: string | null) => (cmd === null ? '' : sha256(cmd));

/**
 * Who holds the lock: null when nobody does (gone meanwhile, or a file of ours that names no live
 * pid, which is taken over). What is no lock file of ours at all (a directory, a FIFO, a link,
 * another user's file) is refused, naming it (exit 2): it is neither read through nor removed.
 */
function holder(file: string): Holder | null {
  let text: string;
  try {
    text = readUserFile(file, {
      what: 'the lock',
      maxBytes: 256,
      ownerCheck: true,
      noFollow: true,
      fix: 'no run of this tool made it: move it out of the way, then rerun',
    });
  } catch (e) {
    if (e instanceof FileError && e.kind !== 'missing' && e.kind !== 'too-large') throw e;
    return null;
  }
  const [first = '', ...rest] = text.split('\n');
  const pid = Number(first.trim());
  const cmdHash = rest.join('').trim();
  return Number.isInteger(pid) && pid > 0 ? { pid, ...(cmdHash ? { cmdHash } : {}) } : null;
}

/** What a lock of this tool says about its holder. */
export function lockText(pid: number, cmd: string | null): string {
  return `${pid}\n${hashOf(cmd)}\n`;
}

/** This tool as a command line names it: the installed command, or its entry script. */
const THIS_TOOL = /create-secrets-sandbox|(^|\/)cli\.js$/;

/**
 * Is the lock's holder a live run of this tool? Its command line must still be the one it recorded;
 * a lock without one (earlier versions wrote only the pid) counts while the process's command line
 * names this tool. When the command line cannot be read, it counts: never take a live run's lock.
 */
export function holderIsLiveRun(h: Holder, cmdOf: (pid: number) => string | null = processCommandLine): boolean {
  if (h.pid === process.pid || !isAlive(h.pid)) return false;
  const now = cmdOf(h.pid);
  if (now === null) return true;
  if (h.cmdHash !== undefined) return hashOf(now) === h.cmdHash;
  return now.split(' ').some((arg) => THIS_TOOL.test(arg));
}

/** SECRETS_SANDBOX_LOCK_WAIT (seconds) for slow machines; 20 s otherwise: about one create run. */
export function lockWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SECRETS_SANDBOX_LOCK_WAIT);
  return Number.isFinite(v) && v >= 0 ? v * 1000 : 20_000;
}

/** Creates the lock file, or returns false when one is there. Any other failure is the lock step's error. */
function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw writeFailure(STEP, file, e);
  }
  try {
    writeSync(fd, lockText(process.pid, processCommandLine(process.pid)));
  } catch (e) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw writeFailure(STEP, file, e);
  }
  closeSync(fd);
  return true;
}

export async function acquireLock(
  paths: Pick<SandboxPaths, 'stateDir' | 'lock'>,
  waitMs = lockWaitMs(),
  onWait?: (pid: number) => void,
): Promise<Lock> {
  // Dirs made only for the lock are removed with it when the run leaves nothing else in them.
  let made: string | undefined;
  try {
    made = mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw writeFailure(STEP, paths.stateDir, e);
  }
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    if (tryCreate(paths.lock)) return held(paths, made);
    const h = holder(paths.lock);
    if (h === null || !holderIsLiveRun(h)) {
      // A run that died (SIGKILL, power loss), or a process that is not this tool: take it over. An
      // empty file is a run between create and write, so give it a moment before treating it as stale.
      if (h === null) await sleep(50);
      if (holder(paths.lock)?.pid === h?.pid) rmSync(paths.lock, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new StepError(
        STEP,
        `another run (pid ${h.pid}) is changing this sandbox`,
        `wait for it to finish, then rerun (or stop pid ${h.pid})`,
        { kind: 'lock-held' },
      );
    }
    if (!told) {
      onWait?.(h.pid);
      told = true;
    }
    await sleep(100);
  }
}

function held(paths: Pick<SandboxPaths, 'stateDir' | 'lock'>, made: string | undefined): Lock {
  const release = () => {
    let mine = false;
    try {
      mine = holder(paths.lock)?.pid === process.pid;
    } catch {
      // Something else took the lock's place meanwhile: it is not ours to remove.
    }
    if (mine) rmSync(paths.lock, { force: true });
    process.off('exit', release);
    if (!made) return;
    for (let d = paths.stateDir; d.startsWith(made); d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break; // not empty: the run wrote something there
      }
    }
  };
  process.on('exit', release);
  return { release };
}
