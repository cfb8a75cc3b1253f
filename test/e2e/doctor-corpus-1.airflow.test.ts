/** Part 1 of the differential corpus: test/support/doctor-corpus.ts holds the set-ups and deals them out. */
import { describe, expect, it } from 'vitest';
import { CASES, casesOf, corpusFile, PARTS } from '../support/doctor-corpus.js';

corpusFile(1);

// README ("How far doctor can be trusted") counts the corpus; the parts together must still hold all of it.
describe('the corpus', () => {
  it('has the 53 set-ups the README counts, each in exactly one part', () => {
    expect(CASES).toHaveLength(53);
    expect(CASES.filter((c) => c.major === '3')).toHaveLength(40);
    expect(CASES.filter((c) => c.major === '2')).toHaveLength(13);
    expect(CASES.filter((c) => c.setup.link === undefined)).toHaveLength(22);
    expect(CASES.filter((c) => c.setup.link !== undefined)).toHaveLength(31);
    const parts = Array.from({ length: PARTS }, (_, i) => casesOf(i + 1).map((c) => c.n));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(CASES.map((c) => c.n));
  });
});
