/**
 * `npm run corpus`: the generated corpus at any size (test/corpus/run.corpus.ts), outside the
 * suite's projects and its two-minute files. It takes the machine-wide Airflow lock per set-up
 * (test/support/airflow-lock-core.ts), not for the whole run, so other suites' Airflow files get
 * their turn during a long run.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 1,
    include: ['test/corpus/**/*.corpus.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    disableConsoleIntercept: true,
    testTimeout: 0,
    hookTimeout: 0,
  },
});
