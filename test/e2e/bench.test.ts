/**
 * The benchmark still runs (quick mode: few rounds, small N). It reports; it never asserts a time.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary, VENV_PYTHON, scaled } from '../support/env.js';
import { runProcess } from '../support/sandbox.js';

const skipReason = missing('server binary', serverBinary()) ?? missing('test-tools venv python (hvac)', VENV_PYTHON);

describe.skipIf(skipReason)('npm run bench -- --quick', () => {
  it(
    'measures every comparison and writes the results table',
    async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'css-bench-test-')), 'results.md');
      const r = await runProcess(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--quick', '--out', out], {
        cwd: ROOT,
        env: process.env,
        timeoutMs: scaled(300_000),
      });
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const md = readFileSync(out, 'utf8');
      for (const row of [
        '`node -e 0`',
        '`--version`',
        '`--help`',
        'server start-up alone',
        'shell script',
        '`--yes --check vault`',
        '`bao kv put` loop',
        'sequential hvac loop',
        '`--import` into the running sandbox',
        '`doctor --json`',
      ]) {
        expect(md).toContain(row);
      }
      // Every row carries a measured median in ms.
      expect(md.match(/\| \d+ ms \(min \d+, max \d+, n=\d+\)/g)?.length).toBeGreaterThanOrEqual(12);
      expect(md).toContain('## Against the targets');
    },
    scaled(300_000),
  );
});
