/**
 * The machine-wide lock Airflow-heavy tests take (an Airflow start takes a core for 10-30 s; two of
 * them on two cores time each other out): a directory in the temp dir holding the holder's pid. A
 * lock whose holder died is taken over. airflow-lock.ts holds it for a whole test file; a long
 * corpus run (`npm run corpus`) takes it per set-up, so other suites' Airflow files get their turn.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/vault/server.js';

export const LOCK = join(tmpdir(), `css-airflow-tests-${userInfo().uid}.lock`);
/** Waiting for another suite's Airflow files is normal: allow a long wait, but not forever. */
export const MAX_WAIT_MS = 30 * 60_000;

export function holder(): number | undefined {
  try {
    return Number(readFileSync(join(LOCK, 'pid'), 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

function tryTake(): boolean {
  try {
    mkdirSync(LOCK);
  } catch {
    const pid = holder();
    // No pid yet: the holder is between mkdir and write; wait for it.
    if (pid === undefined || isAlive(pid)) return false;
    rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
  writeFileSync(join(LOCK, 'pid'), String(process.pid));
  return true;
}

/** Waits until this process holds the lock (up to MAX_WAIT_MS). */
export async function takeAirflowLock(): Promise<void> {
  const end = Date.now() + MAX_WAIT_MS;
  while (!tryTake()) {
    if (Date.now() > end)
      throw new Error(`another Airflow test (pid ${holder()}) held ${LOCK} for ${MAX_WAIT_MS / 60_000} min`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function releaseAirflowLock(): void {
  if (holder() === process.pid) rmSync(LOCK, { recursive: true, force: true });
}
