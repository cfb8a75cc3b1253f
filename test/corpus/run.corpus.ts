/**
 * `npm run corpus -- --seed N --count M | --ci | --full [--major 3|2] [--only n,n] [--verbose]`: any size of the
 * generated corpus, judged by real Airflow, printing each set-up as it finishes, then the rates
 * and every disagreement (vitest.corpus.config.ts; scripts/corpus.mjs passes the options).
 */
import { expect, it } from 'vitest';
import { serverBinary } from '../support/env.js';
import { appendFileSync, writeFileSync } from 'node:fs';
import { releaseAirflowLock, takeAirflowLock } from '../support/airflow-lock-core.js';
import { CREATE_RETRIES } from '../support/corpus/bases.js';
import { sample } from '../support/corpus/generate.js';
import { CI_SETUPS, disagreeing, FULL_SETUPS } from '../support/corpus/suite.js';
import { disagreements, rates, ratesLine } from '../support/corpus/rates.js';
import { runSetUp, startCorpus, stopCorpus, type Row } from '../support/corpus/runner.js';
import type { Major } from '../support/corpus/world.js';

const seed = Number(process.env.CORPUS_SEED ?? 1);
const count = Number(process.env.CORPUS_COUNT ?? 10);
const major = process.env.CORPUS_MAJOR as Major | undefined;
const only = process.env.CORPUS_ONLY ? new Set(process.env.CORPUS_ONLY.split(',').map(Number)) : undefined;
const verbose = process.env.CORPUS_VERBOSE === '1';
/** --ci: the CI set-ups (the fixed-seed sample and the named cases) instead of a sample. */
const ci = process.env.CORPUS_CI === '1';
/** --full: the whole corpus (the CI seed's full sample and every named case). */
const full = process.env.CORPUS_FULL === '1';
/** --out FILE: each row as JSON, one per line, and the known disagreements as known.ts lists them. */
const out = process.env.CORPUS_OUT;

const title = full ? 'the whole corpus' : ci ? 'the CI corpus' : `the generated corpus, seed ${seed}, ${count} set-ups`;

it(title, async () => {
  const bin = serverBinary();
  expect(bin, 'a server binary (scripts/setup.sh)').toBeTruthy();
  const specs = (full ? FULL_SETUPS : ci ? CI_SETUPS : sample(seed, count)).filter(
    (s) => (!major || s.major === major) && (!only || only.has(s.n)),
  );
  const c = await startCorpus(bin ?? '', [...new Set(specs.map((s) => s.major))]);
  const rows: Row[] = [];
  try {
    if (out) writeFileSync(out, '');
    for (const spec of specs) {
      await takeAirflowLock();
      const t0 = performance.now();
      let r: Row;
      try {
        r = await runSetUp(c, spec);
      } finally {
        releaseAirflowLock();
      }
      // A waiting suite polls every 250 ms: give it the chance to take the lock before the next set-up.
      await new Promise((r) => setTimeout(r, 600));
      rows.push(r);
      if (out) appendFileSync(out, `${JSON.stringify(r)}\n`);
      const mark = r.error ? 'ERROR' : disagreements([r]).length ? 'DISAGREES' : 'ok';
      console.log(
        `#${spec.n} ${mark} ${((performance.now() - t0) / 1000).toFixed(1)} s  ${spec.name}${spec.cause ? `  !${spec.cause.link}` : ''}`,
      );
      for (const d of disagreements([r])) console.log(`    ${d}`);
      if (verbose)
        console.log(
          JSON.stringify(
            { airflow: r.airflow, withAirflow: r.withAirflow, without: r.without, fix: r.fix, ms: r.ms },
            null,
            1,
          ),
        );
    }
  } finally {
    for (const [m, o] of Object.entries(c.oracles))
      for (const f of o?.fallbacks() ?? [])
        console.log(`Airflow ${m}: the real interpreter ran ${f.args.join(' ')}: ${f.why}`);
    for (const retry of CREATE_RETRIES) console.log(`create failed once and was run again: ${retry}`);
    const left = await stopCorpus(c);
    console.log(`\n${title}: ${ratesLine(rates(rows))}`);
    if (out) {
      const known = rows
        .filter((r) => disagreeing(r).length)
        .map((r) => [
          r.spec.name,
          Object.fromEntries(
            disagreeing(r).map((d) => [d, disagreements([r]).find((l) => l.includes(` ${d.toUpperCase()} `)) ?? d]),
          ),
        ]);
      writeFileSync(`${out}.known.json`, JSON.stringify(known, null, 1));
    }
    if (left.length) console.log(`processes left running and killed: ${left.join(' ')}`);
  }
}, 0);
