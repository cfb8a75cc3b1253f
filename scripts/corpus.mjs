#!/usr/bin/env node
// npm run corpus -- --seed N --count M [--major 3|2] [--only n,n,...] [--verbose]
// npm run corpus -- --ci [--out FILE]: the set-ups CI runs (the seed's sample and the regression cases), rows to FILE
// npm run corpus -- --full: the whole corpus (the seed's 150 set-ups and every named case)
// Runs the generated differential corpus (test/corpus/run.corpus.ts) at any size and prints the
// rates and each disagreement.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '10' },
    major: { type: 'string' },
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    ci: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const env = {
  ...process.env,
  CORPUS_SEED: values.seed,
  CORPUS_COUNT: values.count,
  ...(values.major ? { CORPUS_MAJOR: values.major } : {}),
  ...(values.only ? { CORPUS_ONLY: values.only } : {}),
  ...(values.verbose ? { CORPUS_VERBOSE: '1' } : {}),
  ...(values.ci ? { CORPUS_CI: '1' } : {}),
  ...(values.full ? { CORPUS_FULL: '1' } : {}),
  ...(values.out ? { CORPUS_OUT: values.out } : {}),
};
const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.corpus.config.ts', '--reporter=dot'], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
