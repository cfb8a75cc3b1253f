/**
 * Three projects, run side by side on the two cores:
 * - unit: test/unit, fast, no servers;
 * - e2e: test/e2e/*.test.ts, each file in parallel with the others (every test picks its own free
 *   ports and temp HOME, so files share nothing);
 * - airflow: every `*.airflow.test.ts` file, beside the e2e files but never two at once, in this
 *   suite or another checkout's (test/support/airflow-lock.ts holds a machine-wide lock per file;
 *   test/support/sequencer.ts spreads them through the queue so a worker seldom waits on it).
 *   An Airflow start takes a core for 10-30 s: two of them on two cores time each other out.
 *   vitest cannot give one project one worker while another runs beside it (projects with
 *   different maxWorkers run one after the other), hence the lock.
 *
 * - e2e-vault, when VAULT_BIN names a HashiCorp Vault (scripts/test.sh builds one with
 *   scripts/setup-vault.sh): the e2e files that start and talk to a server, a second time, on it.
 *   The other projects then still run on OpenBao's bao from .venv, as without it.
 *
 * Time limits are not fixed: they scale with how slow this machine is right now, measured as the
 * start-up time of `node -e 0` (55 ms on a quiet 2-core runner, bench/results.md) and the load
 * average. test/support/env.ts reads the same factor (CSS_TEST_SLOWDOWN) for the helpers' limits.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { defineConfig } from 'vitest/config';
import AirflowAwareSequencer from './test/support/sequencer.js';

/** `node -e 0` on a quiet machine (bench/results.md, median of 7). */
const QUIET_NODE_START_MS = 55;
/** The slowest single test on a quiet machine: the Airflow 3 `--check dag` run, ~90 s including its migrate. */
const QUIET_SLOWEST_TEST_MS = 90_000;

function measuredSlowdown(): number {
  if (process.env.CSS_TEST_SLOWDOWN) return Number(process.env.CSS_TEST_SLOWDOWN);
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  runs.sort((a, b) => a - b);
  const start = runs[2]! / QUIET_NODE_START_MS;
  // A load spike between the probe and a slow test is what times tests out: count the queue too.
  const load = loadavg()[0]! / availableParallelism();
  return Math.min(8, Math.max(1, start, load));
}

/** The HashiCorp Vault binary for the e2e-vault project. */
const hashicorpVault = process.env.VAULT_BIN || undefined;
/**
 * e2e files with nothing of the server's to prove a second time: bad input starts no server, the
 * bench measures the tool against OpenBao's own CLI, and the package test is about the npm tarball.
 */
const SERVER_NEUTRAL_E2E = ['test/e2e/bad-input.test.ts', 'test/e2e/bench.test.ts', 'test/e2e/package.test.ts'];
const E2E_EXCLUDE = ['**/*.airflow.test.ts', '**/node_modules/**'];

const slowdown = measuredSlowdown();
// Worker processes inherit it, so helpers scale their own waits the same way.
process.env.CSS_TEST_SLOWDOWN = slowdown.toFixed(2);
// Twice the slowest quiet test, times how slow the machine is now.
const limit = Math.round(2 * QUIET_SLOWEST_TEST_MS * slowdown);

export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores: two files at a time in all, whatever the project.
    maxWorkers: 2,
    testTimeout: limit,
    hookTimeout: limit,
    globalSetup: ['test/support/global-setup.ts'],
    sequence: { sequencer: AirflowAwareSequencer },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        // OpenBao: an empty VAULT_BIN makes test/support/env.ts serverBinary() take .venv's bao.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], exclude: E2E_EXCLUDE, env: { VAULT_BIN: '' } },
      },
      {
        extends: true,
        test: {
          name: 'airflow',
          include: ['test/**/*.airflow.test.ts'],
          setupFiles: ['test/support/airflow-lock.ts'],
          env: { VAULT_BIN: '' },
        },
      },
      ...(hashicorpVault
        ? [
            {
              extends: true,
              test: {
                name: 'e2e-vault',
                include: ['test/e2e/**/*.test.ts'],
                exclude: [...E2E_EXCLUDE, ...SERVER_NEUTRAL_E2E],
                env: { VAULT_BIN: hashicorpVault },
              },
            },
          ]
        : []),
    ],
  },
});
