/**
 * The corpus CI runs: the whole fixed-seed generated sample and the named regression cases, dealt
 * over test/e2e/doctor-corpus-<major>-<part>.airflow.test.ts (each under two minutes: one Airflow
 * major per file, so one oracle start; dearest set-ups first to the part with the least so far).
 * The earlier hand-written cases run too with `npm run corpus -- --full`. Each set-up is one test: Airflow
 * judges it as the generator says (its known cause), doctor's exit code agrees with Airflow, its
 * named link is the known cause and its first fix makes Airflow resolve, and without Airflow doctor
 * agrees wherever it decides. A known disagreement (known.ts) is recorded, not asserted: it is
 * counted in README's rates and printed when it agrees now, so CI stays green while doctor catches up.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary } from '../env.js';
import { CREATE_RETRIES } from './bases.js';
import { sample, type SetUpSpec } from './generate.js';
import { KNOWN, type Dimension } from './known.js';
import { CI_NAMED_CASES, NAMED } from './named.js';
import { disagreements, rates, ratesLine } from './rates.js';
import { runSetUp, startCorpus, stopCorpus, type Corpus, type Row } from './runner.js';
import type { Major } from './world.js';

/** The sample: this seed; the whole corpus draws FULL_COUNT set-ups, CI the first CI_COUNT of them (all). */
export const CI_SEED = 20;
export const FULL_COUNT = 150;
export const CI_COUNT = 150;
/** Named cases are numbered after the sample, so their ids never meet a generated one's. */
const NAMED_FIRST = 1001;
/** Parts per major: each file holds one major's set-ups (one Airflow fork server per file). */
export const PARTS: Record<Major, number> = { '3': 11, '2': 5 };

const NAMED_SETUPS = NAMED.map((named, i) => named.spec(NAMED_FIRST + i));

/** The whole corpus: the sample and every named case (`npm run corpus -- --full`). */
export const FULL_SETUPS: SetUpSpec[] = [...sample(CI_SEED, FULL_COUNT), ...NAMED_SETUPS];

/** The named cases CI runs: the regressions doctor was fixed for, and issue 20's own list. */
export const CI_NAMED = new Set<string>(CI_NAMED_CASES);

export const CI_SETUPS: SetUpSpec[] = [
  ...sample(CI_SEED, CI_COUNT),
  ...NAMED_SETUPS.filter((s) => CI_NAMED.has(s.name)),
];

/**
 * A set-up's rough cost in seconds on a quiet machine: Airflow and doctor's probe through the fork
 * server (~1.5 s each per id), doctor without Airflow (~0.3 s), and for a broken one a fix and
 * Airflow again; unreachable servers cost hvac's retries.
 */
function cost(s: SetUpSpec): number {
  const ids = s.base.variable ? 2 : 1;
  let t = 1 + 1.5 * ids + 1.5;
  if (s.cause) t += 1.5 * ids + 1.5;
  if (s.cause?.link === 'address/TLS/proxy') t += 2;
  return t;
}

function deal(major: Major): SetUpSpec[][] {
  const parts = Array.from({ length: PARTS[major] }, () => ({ setUps: [] as SetUpSpec[], cost: 0 }));
  const mine = CI_SETUPS.filter((s) => s.major === major);
  for (const s of [...mine].sort((a, b) => cost(b) - cost(a) || a.n - b.n)) {
    const least = parts.reduce((m, p) => (p.cost < m.cost ? p : m));
    least.setUps.push(s);
    least.cost += cost(s);
  }
  return parts.map((p) => p.setUps.sort((a, b) => a.n - b.n));
}

const DEALT: Record<Major, SetUpSpec[][]> = { '3': deal('3'), '2': deal('2') };

/** The set-ups of the file for `major`, part `part` (1-based). */
export function setUpsOf(major: Major, part: number): SetUpSpec[] {
  return DEALT[major][part - 1] ?? [];
}

export const skipReason =
  missing('server binary', serverBinary()) ??
  missing('Airflow 3 venv', join(ROOT, '.venvs', 'airflow3', 'bin', 'airflow')) ??
  missing('Airflow 2 venv', join(ROOT, '.venvs', 'airflow2', 'bin', 'airflow'));

/** Which of a row's dimensions disagree (the corpus's own failures are not doctor's and fail outright). */
export function disagreeing(r: Row): Dimension[] {
  const out: Dimension[] = [];
  // A token limited in uses: doctor does not ask Airflow (each lookup spends a use) and leaves the verdict to it.
  if (r.withAirflow.decided && (r.withAirflow.code === 0) !== r.airflow.ok) out.push('exit');
  if (r.spec.cause && !r.airflow.ok && r.withAirflow.link !== r.spec.cause.link) out.push('link');
  if (r.spec.cause && !r.airflow.ok && !r.fix?.resolved) out.push('fix');
  if (r.without.decided && (r.without.code === 0) !== r.airflow.ok) out.push('without');
  if (!r.without.decided) out.push('undecided');
  if (r.after && r.after.ok !== r.airflow.ok) out.push('trace');
  return out;
}

const DIMENSIONS = ['exit', 'link', 'fix', 'without', 'undecided', 'trace'] as const;

function check(r: Row): void {
  expect(r.error, 'the set-up could be built').toBeUndefined();
  if (r.withAirflow.decided)
    expect(r.withAirflow.verdict, "doctor with Airflow on PATH gives Airflow's verdict").toBe('airflow');
  else expect(r.withAirflow.notAsked, 'doctor with Airflow on PATH says why it did not ask Airflow').toBeTruthy();
  expect(r.airflow.ok, `Airflow judges the set-up as its known cause says: ${r.airflow.said}`).toBe(!r.spec.cause);
  const known = KNOWN.get(r.spec.name) ?? {};
  const found = disagreeing(r);
  const why = disagreements([r]).join('\n');
  for (const d of DIMENSIONS) {
    if (!known[d]) expect(found, why).not.toContain(d);
    else if (!found.includes(d)) console.log(`#${r.spec.n} ${r.spec.name}: agrees now on ${d}: drop it from known.ts`);
  }
}

/** The body of test/e2e/doctor-corpus-<major>-<part>.airflow.test.ts. */
export function corpusPart(major: Major, part: number): void {
  const setUps = setUpsOf(major, part);
  describe.skipIf(skipReason)(`doctor corpus, Airflow ${major}, part ${part} of ${PARTS[major]}`, () => {
    let c: Corpus | undefined;
    const rows: Row[] = [];
    // From here the file holds the Airflow lock (the airflow project's setup file took it first).
    let t0 = 0;

    beforeAll(async () => {
      t0 = performance.now();
      c = await startCorpus(serverBinary() ?? '', [major]);
    });

    afterAll(async () => {
      const s = ((performance.now() - t0) / 1000).toFixed(0);
      console.log(`doctor corpus, Airflow ${major}, part ${part}, ${s} s: ${ratesLine(rates(rows))}`);
      for (const d of disagreements(rows)) console.log(`  ${d}`);
      for (const retry of CREATE_RETRIES) console.log(`  create failed once and was run again: ${retry}`);
      if (c) expect(await stopCorpus(c), 'processes left running').toEqual([]);
    });

    for (const s of setUps)
      it(`#${s.n} ${s.name}`, async () => {
        if (!c) throw new Error('the corpus did not start');
        const r = await runSetUp(c, s);
        rows.push(r);
        // CORPUS_OUT=FILE: each row as a JSON line, as `npm run corpus -- --out FILE` writes them.
        if (process.env.CORPUS_OUT) appendFileSync(process.env.CORPUS_OUT, `${JSON.stringify(r)}\n`);
        check(r);
      });
  });
}
