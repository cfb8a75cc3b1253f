/**
 * One run at a time per sandbox: `.sandbox/lock` holds the pid of the run changing it, created
 * exclusively (O_EXCL, never following a link). A lock whose pid is dead is taken over; a live one
 * is waited for a few seconds, then the run stops naming the other pid.
 */
import { closeSync, constants, mkdirSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StepError } from './errors.js';
import { isAlive } from './vault/server.js';
import type { SandboxPaths } from './sandbox.js';
import { readUserFile } from './io/read.js';

export interface Lock {
  release(): void;
}

function holder(file: string): number | null {
  try {
    const text = readUserFile(file, { what: 'the lock', maxBytes: 64, ownerCheck: true, noFollow: true });
    const pid = Number(text.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** SECRETS_SANDBOX_LOCK_WAIT (seconds) for slow machines; 20 s otherwise: about one create run. */
export function lockWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SECRETS_SANDBOX_LOCK_WAIT);
  return Number.isFinite(v) && v >= 0 ? v * 1000 : 20_000;
}

export async function acquireLock(
  paths: SandboxPaths,
  waitMs = lockWaitMs(),
  onWait?: (pid: number) => void,
): Promise<Lock> {
  // Dirs made only for the lock are removed with it when the run leaves nothing else in them.
  const made = mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(
        paths.lock,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      const release = () => {
        if (holder(paths.lock) === process.pid) rmSync(paths.lock, { force: true });
        process.off('exit', release);
        if (made) {
          for (let d = paths.stateDir; d.startsWith(made); d = dirname(d)) {
            try {
              rmdirSync(d);
            } catch {
              break; // not empty: the run wrote something there
            }
          }
        }
      };
      process.on('exit', release);
      return { release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = holder(paths.lock);
    if (pid === null || pid === process.pid || !isAlive(pid)) {
      // A run that died (SIGKILL, power loss) left it: take it over. An empty file is a run between
      // create and write, so give it a moment before treating it as stale.
      if (pid === null) await sleep(50);
      if (holder(paths.lock) === pid) rmSync(paths.lock, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new StepError(
        'lock',
        `another run (pid ${pid}) is changing this sandbox`,
        `wait for it to finish, then rerun (or stop pid ${pid})`,
      );
    }
    if (!told) {
      onWait?.(pid);
      told = true;
    }
    await sleep(100);
  }
}
