/**
 * The safety primitives, attacked directly: private dirs and files under .sandbox, the redactor,
 * upfront validators and the DAG's task ids. Foreign ownership is real (chown to uid 65534) when
 * the tests run as root, which is how CI runs them.
 */
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ensurePrivateDir, openPrivateFile, writePrivateFile } from '../../src/io/private.js';
import { writeFileAtomic } from '../../src/io/write.js';
import { maskToken, redact, registerSecret } from '../../src/ui/mask.js';
import { mountProblem, pathCharsProblem } from '../../src/validate/vault-path.js';
import { rootTokenCharsProblem } from '../../src/validate/root-token.js';
import { dagsDirProblem } from '../../src/validate/dags-dir.js';
import { dagTaskIds, TASK_ID_MAX } from '../../src/airflow/templates.js';
import { checkSandboxState } from '../../src/validate/sandbox-dir.js';
import { sandboxLayout } from '../../src/sandbox/index.js';

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const tmp = () => mkdtempSync(join(tmpdir(), 'css-safety-'));
const mode = (p: string) => statSync(p).mode & 0o777;

describe('private dirs (.sandbox)', () => {
  it('makes a missing dir 0700 and narrows an existing one of ours to 0700', () => {
    const d = join(tmp(), '.sandbox');
    ensurePrivateDir(d);
    expect(mode(d)).toBe(0o700);
    execFileSync('chmod', ['777', d]);
    ensurePrivateDir(d);
    expect(mode(d)).toBe(0o700);
  });

  it('refuses a symlink, leaving its target untouched', () => {
    const root = tmp();
    const target = join(root, 'elsewhere');
    mkdirSync(target, { mode: 0o755 });
    symlinkSync(target, join(root, '.sandbox'));
    expect(() => ensurePrivateDir(join(root, '.sandbox'))).toThrow(UsageError);
    expect(() => ensurePrivateDir(join(root, '.sandbox'))).toThrow(/is a symlink.*rm -r/);
    expect(mode(target)).toBe(0o755);
  });

  it('refuses a file in its place', () => {
    const root = tmp();
    writeFileSync(join(root, '.sandbox'), 'x');
    expect(() => ensurePrivateDir(join(root, '.sandbox'))).toThrow(/is not a directory/);
  });

  it.skipIf(!IS_ROOT)('refuses a dir another user owns (needs root to chown)', () => {
    const d = join(tmp(), '.sandbox');
    mkdirSync(d);
    execFileSync('chmod', ['777', d]);
    chownSync(d, NOBODY, NOBODY);
    expect(() => ensurePrivateDir(d)).toThrow(new RegExp(`owned by .*uid ${NOBODY}`));
    expect(mode(d)).toBe(0o777);
  });
});

describe('private files', () => {
  it('never writes through a planted symlink: the target keeps its content and mode', () => {
    const root = tmp();
    const victim = join(root, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o644 });
    symlinkSync(victim, join(root, 'server.out'));
    expect(() => openPrivateFile(join(root, 'server.out'))).toThrow(/is a symlink/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(mode(victim)).toBe(0o644);
  });

  it('replaces an old file of ours with a fresh empty one of mode 0600', () => {
    const f = join(tmp(), 'server.out');
    writeFileSync(f, 'old banner with a dead token', { mode: 0o666 });
    execFileSync('chmod', ['666', f]);
    const fd = openPrivateFile(f);
    writeSync(fd, 'new');
    closeSync(fd);
    expect(readFileSync(f, 'utf8')).toBe('new');
    expect(mode(f)).toBe(0o600);
  });

  it('refuses a directory in the place of a file', () => {
    const f = join(tmp(), 'server.log');
    mkdirSync(f);
    expect(() => openPrivateFile(f)).toThrow(/is a directory, not a file/);
  });

  it.skipIf(!IS_ROOT)('refuses a file another user pre-created (they would read the token)', () => {
    const f = join(tmp(), 'server.out');
    writeFileSync(f, '');
    execFileSync('chmod', ['666', f]);
    chownSync(f, NOBODY, NOBODY);
    expect(() => openPrivateFile(f)).toThrow(new RegExp(`owned by .*uid ${NOBODY}`));
    expect(() => writePrivateFile(f, '{}')).toThrow(UsageError);
    expect(lstatSync(f).uid).toBe(NOBODY);
    expect(readFileSync(f, 'utf8')).toBe('');
  });

  it('writeFileAtomic sets the mode exactly even under umask 000; writePrivateFile refuses a symlink, its target untouched', () => {
    const root = tmp();
    const old = process.umask(0);
    try {
      writeFileAtomic(join(root, 'env'), 'A=1', 0o600);
    } finally {
      process.umask(old);
    }
    expect(mode(join(root, 'env'))).toBe(0o600);
    const victim = join(root, 'victim');
    writeFileSync(victim, 'keep');
    symlinkSync(victim, join(root, 'state.json'));
    expect(() => writePrivateFile(join(root, 'state.json'), '{}', 0o600)).toThrow(/is a symlink/);
    expect(lstatSync(join(root, 'state.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('keep');
  });

  it('checkSandboxState finds a planted entry before anything starts', () => {
    const dir = tmp();
    const paths = sandboxLayout(dir);
    checkSandboxState(paths); // nothing there: fine
    mkdirSync(paths.stateDir);
    symlinkSync('/etc/passwd', paths.serverLog);
    expect(() => checkSandboxState(paths)).toThrow(/server\.log' is a symlink/);
  });
});

describe('masking', () => {
  it('shows at most 4 characters, and none of a secret shorter than 16', () => {
    expect(maskToken('abcdefghijkl')).toBe('****'); // 12 characters: nothing shown
    expect(maskToken('abcdefghijklmno')).toBe('****');
    expect(maskToken('abcdefghijklmnop')).toBe('abcd…(16 chars)');
    expect(maskToken('short', true)).toBe('short');
  });

  it('masks URI passwords it was never told about, and every registered secret', () => {
    expect(redact("--conn 'postgres://admin:S3cret@db/app' has no '='")).toBe(
      "--conn 'postgres://admin:****@db/app' has no '='",
    );
    registerSecret('p@ss/w0rd!');
    const out = redact('got p@ss/w0rd! and p%40ss%2Fw0rd! back');
    expect(out).not.toContain('p@ss/w0rd!');
    expect(out).not.toContain('p%40ss%2Fw0rd!');
  });
});

describe('the redactor at scale', () => {
  it('masks a secret that contains another whole, and stays linear with 100,000 registered passwords', () => {
    registerSecret('inner-secret', 'outer-inner-secret-x');
    expect(redact('a outer-inner-secret-x b inner-secret c')).toBe(
      'a outer-inner-secret-x'.replace('outer-inner-secret-x', maskToken('outer-inner-secret-x')) + ' b **** c',
    );
    for (let i = 0; i < 100_000; i++) registerSecret(`pw-${i}-Zq9`);
    const t0 = process.cpuUsage();
    let leaked = 0;
    for (let i = 0; i < 20_000; i++) {
      const line = redact(
        `writing connection 'c_${i}' with password pw-${i}-Zq9 to secret/connections/c_${i} failed: 500`,
      );
      if (line.includes(`pw-${i}-Zq9`)) leaked++;
    }
    const used = process.cpuUsage(t0);
    expect(leaked).toBe(0);
    // 20,000 lines against 100,000 secrets: a scan per secret would be 2e9 substring searches.
    expect((used.user + used.system) / 1000).toBeLessThan(3_000);
  });
});

describe('upfront validators', () => {
  it.each([
    ['auth', /keeps for itself/],
    ['sys/x', /keeps for itself/],
    ['cubbyhole', /keeps for itself/],
    ['identity/a', /keeps for itself/],
    ['secret/data', /nested under/],
    ['secret/team', /nested under/],
    ["it's", /holds '''/],
  ])('refuses the mount %s', (m, re) => {
    expect(mountProblem(m)).toMatch(re);
  });

  it.each(['secret', 'kv', 'team/kv', 'secrets', 'authx'])('accepts the mount %s', (m) => {
    expect(mountProblem(m)).toBeNull();
  });

  it('refuses quotes and $ in a path that lands in the .env', () => {
    expect(pathCharsProblem('conn$x')).toMatch(/'\$'/);
    expect(pathCharsProblem('connections')).toBeNull();
  });

  it('refuses non-ASCII and non-Latin-1 root tokens, naming the code point', () => {
    expect(rootTokenCharsProblem('tökén')).toMatch(/U\+00F6/);
    expect(rootTokenCharsProblem('tok€n')).toMatch(/U\+20AC/);
    expect(rootTokenCharsProblem("to'ken")).toMatch(/'''/);
    expect(rootTokenCharsProblem('my-root_token-123')).toBeNull();
  });

  it('probes the DAG folder: a path through a file cannot be made; a writable one is fine', () => {
    const root = tmp();
    writeFileSync(join(root, 'file'), '');
    expect(dagsDirProblem(join(root, 'file', 'dags'))).toMatch(/is a file|part of the path is a file/);
    expect(dagsDirProblem(join(root, 'new', 'dags'))).toBeNull();
  });

  it.skipIf(!IS_ROOT || !existsRo())('probes the DAG folder on a read-only file system (/proc)', () => {
    expect(dagsDirProblem('/proc/sys/dags')).not.toBeNull();
  });
});

function existsRo(): boolean {
  try {
    return statSync('/proc/sys').isDirectory();
  } catch {
    return false;
  }
}

describe('DAG task ids', () => {
  it('stay distinct for ids that differ only by . - _', () => {
    const ids = ['my.db', 'my-db', 'my_db', 'MY_DB', 'a.b-c_d', 'a_b.c-d'];
    const t = dagTaskIds(ids);
    expect(new Set(t.values()).size).toBe(ids.length);
    expect(t.get('my.db')).toBe('check_my.db');
  });

  it('fit Airflow 250-character limit and stay distinct for long ids sharing a prefix', () => {
    const a = 'x'.repeat(250);
    const b = 'x'.repeat(249) + 'y';
    const t = dagTaskIds([a, b]);
    for (const v of t.values()) expect(v.length).toBeLessThanOrEqual(TASK_ID_MAX);
    expect(t.get(a)).not.toBe(t.get(b));
    for (const v of t.values()) expect(v).toMatch(/^[\w.-]+$/);
  });
});

describe('the wizard never echoes a password', () => {
  it('in a connection line without = (not a file), and in the preview of one with =', async () => {
    const { validateConnectionLine, connectionPreview } = await import('../../src/ui/wizard.js');
    const said = validateConnectionLine('postgres://admin:Wz-S3cret@db/app');
    expect(said).not.toBe(true);
    expect(String(said)).not.toContain('Wz-S3cret');
    expect(String(said)).toContain('admin:****@db');
    expect(connectionPreview('x=mysql://u:Wz-S3cret/x@h/db')).not.toContain('Wz-S3cret');
  });
});
