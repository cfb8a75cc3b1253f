/**
 * A vitest reporter beside the JSON one: the test counts of each project, written to
 * test-results.projects.json for scripts/count.mjs. The JSON report names files, not projects,
 * and the server e2e files run in two projects (e2e on OpenBao, e2e-vault on HashiCorp Vault).
 */
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export const PROJECT_COUNTS_FILE = 'test-results.projects.json';

export type ProjectCounts = Record<string, { passed: number; failed: number; skipped: number }>;

export function projectCounts(modules: ReadonlyArray<TestModule>): ProjectCounts {
  const counts: ProjectCounts = {};
  for (const m of modules) {
    counts[m.project.name] ??= { passed: 0, failed: 0, skipped: 0 };
    const c = counts[m.project.name] as ProjectCounts[string];
    let tests = 0;
    for (const t of m.children.allTests()) {
      tests++;
      const state = t.result().state;
      if (state === 'passed') c.passed++;
      else if (state === 'failed') c.failed++;
      else c.skipped++;
    }
    // A file that failed to load counts as one failure, as in the closing line.
    if (tests === 0 && m.state() === 'failed') c.failed++;
  }
  return counts;
}

export default class ProjectCountsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    writeFileSync(PROJECT_COUNTS_FILE, `${JSON.stringify(projectCounts(modules), null, 2)}\n`);
  }
}
