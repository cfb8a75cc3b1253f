// Writes bench/suite.md from two runs of `scripts/test.sh`: the per-project results it leaves in
// test-results.projects.json (test/support/project-counts.ts) and the wall time measured around
// the script. Each file's time and its share of the summed file time (files run two at a time,
// so the shares add up to about twice the wall time); a file of the e2e-vault project (the second
// pass, on HashiCorp Vault) is marked "on Vault".
// Usage: node bench/suite.mjs FIRST.json FIRST_WALL_S SECOND.json SECOND_WALL_S [NOTE] [FIRST_LABEL] [SECOND_LABEL]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const [firstJson, firstWall, secondJson, secondWall, note = '', firstLabel = 'cold', secondLabel = 'warm'] =
  process.argv.slice(2);
/** The label of a project's rows: which server its files ran on, when it is not OpenBao. */
const SUFFIX = { 'e2e-vault': ' (on Vault)' };
const read = (json) => {
  const projects = JSON.parse(readFileSync(json, 'utf8'));
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const files = new Map();
  for (const [name, p] of Object.entries(projects)) {
    for (const k of Object.keys(totals)) totals[k] += p[k];
    for (const [file, seconds] of Object.entries(p.files)) files.set(`${file}${SUFFIX[name] ?? ''}`, seconds);
  }
  return { ...totals, projects, files };
};
const first = read(firstJson);
const second = secondJson && secondJson !== '-' ? read(secondJson) : null;
const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
const names = [...first.files.keys()].sort((a, b) => first.files.get(b) - first.files.get(a));
const fs = sum(first.files);
const ss = second ? sum(second.files) : 0;
const s = (x) => `${x.toFixed(1)} s`;
const counts = (r) => `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
const perProject = (r) =>
  Object.entries(r.projects)
    .map(([n, p]) => `${n} ${p.passed}`)
    .join(', ');
const lines = [
  '## The test suite (`scripts/test.sh`)',
  '',
  `${firstLabel}: ${firstWall} s wall, ${counts(first)} (passed per project: ${perProject(first)}).` +
    (second
      ? ` ${secondLabel}: ${secondWall} s wall, ${counts(second)} (passed per project: ${perProject(second)}).`
      : ''),
  note,
  '',
  `| file | ${firstLabel} | share | ${second ? `${secondLabel} | share |` : ''}`,
  `|---|---|---|${second ? '---|---|' : ''}`,
  ...names.map((n) => {
    const f = first.files.get(n);
    const r = second?.files.get(n);
    return `| ${n} | ${s(f)} | ${((100 * f) / fs).toFixed(1)}% |${second ? ` ${r === undefined ? '' : s(r)} | ${r === undefined ? '' : `${((100 * r) / ss).toFixed(1)}%`} |` : ''}`;
  }),
  '',
];
// The hand-kept part: the HashiCorp Vault build and the second pass, measured apart.
const kept = join(ROOT, 'bench', 'suite-vault.md');
if (existsSync(kept)) lines.push(readFileSync(kept, 'utf8'));
writeFileSync(join(ROOT, 'bench', 'suite.md'), lines.join('\n'));
console.error(`wrote ${join(ROOT, 'bench', 'suite.md')}`);
