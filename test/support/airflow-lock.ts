/**
 * Setup file of the `airflow` project: the machine-wide lock (airflow-lock-core.ts) held for the
 * whole test file, so no two Airflow-heavy files run at once, in this suite or in another
 * checkout's suite beside it.
 */
import { afterAll, beforeAll } from 'vitest';
import { MAX_WAIT_MS, releaseAirflowLock, takeAirflowLock } from './airflow-lock-core.js';

let held = false;

beforeAll(async () => {
  await takeAirflowLock();
  held = true;
}, MAX_WAIT_MS + 10_000);

afterAll(() => {
  if (held) releaseAirflowLock();
  held = false;
});
