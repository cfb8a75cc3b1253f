/**
 * Issue 20's floors on the CI corpus. Every CI set-up (test/e2e/doctor-corpus-*.airflow.test.ts)
 * asserts each dimension that known.ts does not list as a known disagreement, so a passing CI run
 * reaches at least the rates known.ts pins; this holds those pinned rates to the issue's floors,
 * and every part file the suite deals set-ups to to existence.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/env.js';
import { pinnedRates } from '../support/corpus/readme.js';
import { CI_SETUPS, PARTS } from '../support/corpus/suite.js';

const r = pinnedRates();

describe("the CI corpus's rates (issue 20's floors)", () => {
  it('runs at least 150 set-ups on both Airflow majors', () => {
    expect(r.total).toBeGreaterThanOrEqual(150);
    for (const m of ['3', '2']) expect(CI_SETUPS.filter((s) => s.major === m).length).toBeGreaterThanOrEqual(40);
  });

  it("agrees with Airflow's exit code on every set-up", () => {
    expect(r.exit).toBe(r.total);
  });

  it('names the known cause on at least 95% of the broken set-ups', () => {
    expect(r.link / r.broken).toBeGreaterThanOrEqual(0.95);
  });

  it('prints a fix that, followed, makes Airflow resolve on at least 90% of the broken set-ups', () => {
    expect(r.fix / r.broken).toBeGreaterThanOrEqual(0.9);
  });

  it('without Airflow: agrees wherever it gives a verdict, and gives one on at least 80%', () => {
    expect(r.agreeDecided).toBe(r.decided);
    expect(r.decided / r.total).toBeGreaterThanOrEqual(0.8);
  });

  it('has a test file for every part the set-ups are dealt to', () => {
    for (const [m, n] of Object.entries(PARTS))
      for (let p = 1; p <= n; p++) {
        const f = join(ROOT, 'test', 'e2e', `doctor-corpus-${m}-${p}.airflow.test.ts`);
        expect(existsSync(f), f).toBe(true);
      }
    expect(existsSync(join(ROOT, 'test', 'e2e', `doctor-corpus-3-${PARTS['3'] + 1}.airflow.test.ts`))).toBe(false);
    expect(existsSync(join(ROOT, 'test', 'e2e', `doctor-corpus-2-${PARTS['2'] + 1}.airflow.test.ts`))).toBe(false);
  });
});
