/**
 * Setup file of the `airflow` project: a machine-wide lock held for the whole test file, so no two
 * Airflow-heavy files run at once, in this suite or in another checkout's suite beside it (an
 * Airflow start takes a core for 10-30 s; two of them on two cores time each other out).
 * A lock whose holder died is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { isAlive } from '../../src/vault/server.js';

const LOCK = join(tmpdir(), `css-airflow-tests-${userInfo().uid}.lock`);
/** Waiting for another suite's Airflow files is normal: allow a long wait, but not forever. */
const MAX_WAIT_MS = 30 * 60_000;

function holder(): number | undefined {
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

let held = false;

beforeAll(async () => {
  const end = Date.now() + MAX_WAIT_MS;
  while (!tryTake()) {
    if (Date.now() > end)
      throw new Error(`another Airflow test (pid ${holder()}) held ${LOCK} for ${MAX_WAIT_MS / 60_000} min`);
    await new Promise((r) => setTimeout(r, 250));
  }
  held = true;
}, MAX_WAIT_MS + 10_000);

afterAll(() => {
  if (held && holder() === process.pid) rmSync(LOCK, { recursive: true, force: true });
  held = false;
});
