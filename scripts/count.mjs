// Prints the plain closing line CI reads: "N passed, N failed" (skipped tests are named apart),
// after a line with the counts for each server the suite ran on.
import { readFileSync } from 'node:fs';

/** The vitest projects (vitest.config.ts) and the server each one's tests run on. */
const SERVER_OF_PROJECT = { unit: 'no server', e2e: 'OpenBao', airflow: 'OpenBao', 'e2e-vault': 'HashiCorp Vault' };

const plural = (c) => `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`;

/** "by server: OpenBao 512 passed, 0 failed (e2e, airflow); ..." from the project counts, or null without them. */
function byServer(file) {
  let projects;
  try {
    projects = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const servers = new Map();
  for (const [project, c] of Object.entries(projects)) {
    const name = SERVER_OF_PROJECT[project] ?? `project ${project}`;
    const s = servers.get(name) ?? { passed: 0, failed: 0, skipped: 0, projects: [] };
    s.passed += c.passed;
    s.failed += c.failed;
    s.skipped += c.skipped;
    s.projects.push(project);
    servers.set(name, s);
  }
  const parts = [...servers].map(([name, s]) => `${name} ${plural(s)} (${s.projects.join(', ')})`);
  return parts.length ? `by server: ${parts.join('; ')}` : null;
}

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
const servers = byServer(process.argv[3] ?? 'test-results.projects.json');
if (servers) console.log(servers);
console.log(plural({ passed: r.numPassedTests, failed: r.numFailedTests + brokenFiles, skipped }));
process.exit(r.numFailedTests + brokenFiles > 0 ? 1 : 0);
