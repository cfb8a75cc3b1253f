/**
 * `npm run corpus`: the generated corpus at any size (test/corpus/run.corpus.ts), outside the
 * suite's projects and its two-minute files, under the same machine-wide Airflow lock.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 1,
    include: ['test/corpus/**/*.corpus.ts'],
    setupFiles: ['test/support/airflow-lock.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    disableConsoleIntercept: true,
    testTimeout: 0,
    hookTimeout: 0,
  },
});
