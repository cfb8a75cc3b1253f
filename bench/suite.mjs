// Writes bench/suite.md from two runs of `scripts/test.sh` (vitest's JSON report, test-results.json,
// and the wall time measured around the script): each file's time and its share of the summed
// file time (files run two at a time, so the shares add up to about twice the wall time).
// Usage: node bench/suite.mjs FRESH.json FRESH_WALL_S RERUN.json RERUN_WALL_S [NOTE]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const [freshJson, freshWall, rerunJson, rerunWall, note = ''] = process.argv.slice(2);
const files = (json) => {
  const r = JSON.parse(readFileSync(json, 'utf8'));
  const root = dirname(json);
  return {
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
    files: new Map(r.testResults.map((f) => [relative(root, f.name), (f.endTime - f.startTime) / 1000])),
  };
};
const fresh = files(freshJson);
const rerun = rerunJson && rerunJson !== '-' ? files(rerunJson) : null;
const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
const names = [...fresh.files.keys()].sort((a, b) => fresh.files.get(b) - fresh.files.get(a));
const fs = sum(fresh.files);
const rs = rerun ? sum(rerun.files) : 0;
const s = (x) => `${x.toFixed(1)} s`;
const lines = [
  '## The test suite (`scripts/test.sh`)',
  '',
  `From a fresh clone (the machine's install cache warm: no install step ran): ${freshWall} s wall, ${fresh.passed} passed, ${fresh.failed} failed, ${fresh.skipped} skipped.` +
    (rerun ? ` Rerun in the same clone: ${rerunWall} s wall, ${rerun.passed} passed, ${rerun.failed} failed.` : ''),
  note,
  '',
  `| file | fresh clone | share | ${rerun ? 'rerun | share |' : ''}`,
  `|---|---|---|${rerun ? '---|---|' : ''}`,
  ...names.map((n) => {
    const f = fresh.files.get(n);
    const r = rerun?.files.get(n);
    return `| ${n} | ${s(f)} | ${((100 * f) / fs).toFixed(1)}% |${rerun ? ` ${r === undefined ? '' : s(r)} | ${r === undefined ? '' : ((100 * r) / rs).toFixed(1) + '%'} |` : ''}`;
  }),
  '',
];
writeFileSync(join(ROOT, 'bench', 'suite.md'), lines.join('\n'));
console.error(`wrote ${join(ROOT, 'bench', 'suite.md')}`);
