/**
 * A vitest reporter beside the JSON one: the test counts and file times of each project, written
 * to test-results.projects.json for scripts/count.mjs and bench/suite.mjs. The JSON report names
 * files, not projects, and the server e2e files run in two projects (e2e on OpenBao, e2e-vault on
 * HashiCorp Vault).
 */
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export const PROJECT_COUNTS_FILE = 'test-results.projects.json';

export interface ProjectResult {
  passed: number;
  failed: number;
  skipped: number;
  /** Seconds each file's tests and hooks took, by path from the repo root. */
  files: Record<string, number>;
}

export function projectResults(modules: ReadonlyArray<TestModule>): Record<string, ProjectResult> {
  const out: Record<string, ProjectResult> = {};
  for (const m of modules) {
    out[m.project.name] ??= { passed: 0, failed: 0, skipped: 0, files: {} };
    const p = out[m.project.name] as ProjectResult;
    let tests = 0;
    for (const t of m.children.allTests()) {
      tests++;
      const state = t.result().state;
      if (state === 'passed') p.passed++;
      else if (state === 'failed') p.failed++;
      else p.skipped++;
    }
    // A file that failed to load counts as one failure, as in the closing line.
    if (tests === 0 && m.state() === 'failed') p.failed++;
    p.files[m.relativeModuleId] = Math.round(m.diagnostic().duration) / 1000;
  }
  return out;
}

export default class ProjectCountsReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    writeFileSync(PROJECT_COUNTS_FILE, `${JSON.stringify(projectResults(modules), null, 2)}\n`);
  }
}
