// Prints the plain closing line CI reads: "N passed, N failed" (skipped tests are named apart).
import { readFileSync } from 'node:fs';

let r;
try {
  r = JSON.parse(readFileSync(process.argv[2] ?? 'test-results.json', 'utf8'));
} catch (e) {
  console.log('0 passed, 1 failed');
  console.error(`no test results: ${e.message}`);
  process.exit(1);
}
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
// A file that failed to load counts as a failure even though none of its tests ran.
const brokenFiles = (r.testResults ?? []).filter(
  (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
).length;
console.log(
  `${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
process.exit(r.numFailedTests + brokenFiles > 0 ? 1 : 0);
