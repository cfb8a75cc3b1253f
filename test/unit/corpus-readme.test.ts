/**
 * README "How far doctor can be trusted" shows the CI corpus's rates and the classes the generator
 * covers, as test/support/corpus/readme.ts computes them from the CI set-ups and the known
 * disagreements (CORPUS_WRITE_README=1 rewrites the block).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../support/env.js';
import { BEGIN, END, trustBlock } from '../support/corpus/readme.js';

it("README's corpus block is the corpus's", () => {
  const file = join(ROOT, 'README.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  expect(start, `README has the corpus markers (${BEGIN})`).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  const current = text.slice(start, end + END.length);
  if (process.env.CORPUS_WRITE_README === '1' && current !== trustBlock())
    writeFileSync(file, text.replace(current, trustBlock()));
  else expect(current).toBe(trustBlock());
});
