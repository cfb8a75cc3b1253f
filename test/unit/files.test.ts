import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFile, sha256, writeFileAtomic } from '../../src/io/write.js';

describe('file writing', () => {
  it('writes atomically with the mode asked for, leaving no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'css-files-'));
    const f = join(dir, 'sub', '.env');
    writeFileAtomic(f, 'A=1\n', 0o600);
    expect(readFileSync(f, 'utf8')).toBe('A=1\n');
    expect(statSync(f).mode & 0o777).toBe(0o600);
    writeFileAtomic(f, 'A=2\n', 0o600);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['.env']);
  });

  it('tells our unedited file from one the user edited', () => {
    const dir = mkdtempSync(join(tmpdir(), 'css-files-'));
    const f = join(dir, 'x');
    const planned = { path: f, content: 'new\n', mode: 0o644 };
    expect(planFile(planned, undefined, false)).toBe('created');
    writeFileSync(f, 'old\n');
    expect(planFile(planned, sha256('old\n'), false)).toBe('updated');
    expect(planFile(planned, sha256('something we wrote once\n'), false)).toBe('kept');
    expect(planFile(planned, undefined, false)).toBe('kept');
    expect(planFile(planned, undefined, true)).toBe('updated');
    writeFileSync(f, 'new\n');
    expect(planFile(planned, undefined, false)).toBe('unchanged');
  });
});
