/**
 * The generated corpus, without running it: the whole corpus is what issue 20 asks (150 generated
 * set-ups on both majors, every operator in it, every broken one with a known cause), the same for
 * the same seed; CI runs a slice of it, dealt into parts without loss, every class of operator in
 * it; the named cases build; the known disagreements name CI set-ups.
 */
import { describe, expect, it } from 'vitest';
import { LINKS } from '../../src/doctor/types.js';
import { OPS, sample } from '../support/corpus/generate.js';
import { KNOWN } from '../support/corpus/known.js';
import { CI_NAMED_CASES, NAMED } from '../support/corpus/named.js';
import { OP_CLASSES } from '../support/corpus/op.js';
import { CI_COUNT, CI_SEED, CI_SETUPS, FULL_COUNT, FULL_SETUPS, PARTS, setUpsOf } from '../support/corpus/suite.js';

const generated = FULL_SETUPS.filter((s) => s.n <= FULL_COUNT);
const broken = FULL_SETUPS.filter((s) => s.cause);

describe('the generated corpus', () => {
  it('samples the same set-ups for the same seed', () => {
    expect(sample(CI_SEED, 30).map((s) => s.name)).toEqual(sample(CI_SEED, 30).map((s) => s.name));
    expect(sample(CI_SEED + 1, 30).map((s) => s.name)).not.toEqual(sample(CI_SEED, 30).map((s) => s.name));
  });

  it('CI runs the first set-ups of the same sample and the named cases it lists', () => {
    expect(CI_SETUPS.filter((s) => s.n <= FULL_COUNT).map((s) => s.name)).toEqual(
      generated.slice(0, CI_COUNT).map((s) => s.name),
    );
    const names = new Set(NAMED.map((n) => n.name));
    for (const n of CI_NAMED_CASES) expect(names.has(n), n).toBe(true);
    expect(CI_SETUPS.length).toBe(CI_COUNT + new Set(CI_NAMED_CASES).size);
    for (const m of ['3', '2']) expect(CI_SETUPS.filter((s) => s.major === m && s.cause).length).toBeGreaterThan(3);
  });

  it('draws 150 generated set-ups for the whole corpus, on both majors, broken and working', () => {
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

  it('uses every operator in the whole corpus, and every class of operator in the CI slice', () => {
    const used = new Set(FULL_SETUPS.flatMap((s) => s.ops));
    const unused = OPS.filter((o) => !used.has(o.id)).map((o) => o.id);
    expect(unused, 'operators no set-up uses').toEqual([]);
    const inCi = new Set(CI_SETUPS.flatMap((s) => s.ops));
    for (const c of OP_CLASSES)
      expect(
        OPS.some((o) => o.class === c && inCi.has(o.id)),
        c,
      ).toBe(true);
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

  it('lists known disagreements of CI set-ups only, each saying what disagrees', () => {
    const names = new Set(CI_SETUPS.map((s) => s.name));
    for (const [name, dims] of KNOWN) {
      expect(names.has(name), name).toBe(true);
      for (const why of Object.values(dims)) expect(why.length, name).toBeGreaterThan(10);
    }
  });
});
