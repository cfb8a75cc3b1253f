/**
 * The generated corpus, without running it: the CI sample is what issue 20 asks (at least 150
 * generated set-ups on both majors, every class of operator in it, every broken one with a known
 * cause), the same for the same seed, dealt into parts without loss; the named cases build; the
 * known disagreements name CI set-ups; and those lists meet the rates.
 */
import { describe, expect, it } from 'vitest';
import { LINKS } from '../../src/doctor/types.js';
import { OPS, sample } from '../support/corpus/generate.js';
import { FINDINGS, KNOWN } from '../support/corpus/known.js';
import { NAMED } from '../support/corpus/named.js';
import { OP_CLASSES } from '../support/corpus/op.js';
import { CI_COUNT, CI_SEED, CI_SETUPS, PARTS, setUpsOf } from '../support/corpus/suite.js';

const generated = CI_SETUPS.filter((s) => s.n <= CI_COUNT);
const broken = CI_SETUPS.filter((s) => s.cause);

describe('the generated corpus', () => {
  it('samples the same set-ups for the same seed', () => {
    expect(sample(CI_SEED, 30).map((s) => s.name)).toEqual(sample(CI_SEED, 30).map((s) => s.name));
    expect(sample(CI_SEED + 1, 30).map((s) => s.name)).not.toEqual(sample(CI_SEED, 30).map((s) => s.name));
  });

  it('runs at least 150 generated set-ups in CI, on both majors, broken and working', () => {
    expect(generated.length).toBeGreaterThanOrEqual(150);
    expect(generated.filter((s) => s.major === '2').length).toBeGreaterThanOrEqual(30);
    expect(generated.filter((s) => s.major === '3').length).toBeGreaterThanOrEqual(80);
    expect(generated.filter((s) => s.cause).length).toBeGreaterThanOrEqual(60);
    expect(generated.filter((s) => !s.cause).length).toBeGreaterThanOrEqual(40);
  });

  it("gives every broken set-up one known cause on one of doctor's links", () => {
    for (const s of broken) {
      expect(LINKS).toContain(s.cause?.link);
      expect(s.ops).toContain(s.cause?.op);
    }
  });

  it('covers every class of operator, and most operators, in the CI sample', () => {
    const used = new Set(CI_SETUPS.flatMap((s) => s.ops));
    for (const c of OP_CLASSES)
      expect(
        OPS.some((o) => o.class === c && used.has(o.id)),
        c,
      ).toBe(true);
    const unused = OPS.filter((o) => !used.has(o.id)).map((o) => o.id);
    expect(unused, 'operators no CI set-up uses').toEqual([]);
  });

  it('numbers set-ups uniquely and deals each into exactly one part of its major', () => {
    const ns = CI_SETUPS.map((s) => s.n);
    expect(new Set(ns).size).toBe(ns.length);
    const dealt = (['3', '2'] as const).flatMap((m) =>
      Array.from({ length: PARTS[m] }, (_, i) => setUpsOf(m, i + 1).map((s) => s.n)),
    );
    expect(dealt.flat().sort((a, b) => a - b)).toEqual([...ns].sort((a, b) => a - b));
    for (const m of ['3', '2'] as const)
      for (let p = 1; p <= PARTS[m]; p++) for (const s of setUpsOf(m, p)) expect(s.major).toBe(m);
  });

  it('builds every named case with all its operators, under a unique name', () => {
    const names = NAMED.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    for (const [i, n] of NAMED.entries()) expect(() => n.spec(5000 + i), n.name).not.toThrow();
  });

  it('lists known disagreements of CI set-ups only, each naming a finding', () => {
    const names = new Set(CI_SETUPS.map((s) => s.name));
    for (const [name, dims] of KNOWN) {
      expect(names.has(name), name).toBe(true);
      for (const why of Object.values(dims)) expect(Object.keys(FINDINGS), why).toContain(why.split(':')[0]);
    }
  });
});

/** What the known lists leave of issue 20's rates over the CI set-ups. */
function knownRates() {
  const known = (d: 'exit' | 'link' | 'fix' | 'without' | 'undecided' | 'trace') =>
    CI_SETUPS.filter((s) => KNOWN.get(s.name)?.[d] !== undefined).length;
  return {
    exit: 1 - known('exit') / CI_SETUPS.length,
    link: 1 - known('link') / broken.length,
    fix: 1 - known('fix') / broken.length,
    without: known('without'),
    decided: 1 - known('undecided') / CI_SETUPS.length,
    trace: known('trace'),
  };
}

// Waits for the doctor side (corpus-findings.md): flip to a plain `it` when the known lists are short enough.
it.fails("the known disagreements leave issue 20's rates: exit code 100%, link >= 95%, fix >= 90%, without Airflow agreeing wherever it decides on >= 80%", () => {
  const r = knownRates();
  expect(r.exit).toBe(1);
  expect(r.link).toBeGreaterThanOrEqual(0.95);
  expect(r.fix).toBeGreaterThanOrEqual(0.9);
  expect(r.without).toBe(0);
  expect(r.decided).toBeGreaterThanOrEqual(0.8);
  expect(r.trace).toBe(0);
});
