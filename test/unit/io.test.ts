/**
 * The safe file layer (src/io): the reader, the writer and the trust boundary, judged on generated
 * hazards (test/support/hazards.ts: entry kinds x owners x modes x symlink shapes) against a table
 * of the rules written independently of the code. Another user is real (uid 65534) when run as
 * root, which is how CI runs; as another user those cases are filtered out, never passed.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { FileError } from '../../src/errors.js';
import {
  formatBytes,
  readUserFile,
  readUserFileIfExists,
  readUserFileWindow,
  MAX_TOKEN_BYTES,
} from '../../src/io/read.js';
import {
  assertTrusted,
  assertTrustedExecutable,
  recordLinks,
  TRUSTED_DIRS_ENV,
  trustProblem,
} from '../../src/io/trust.js';
import { writeFileAtomic, writeTarget } from '../../src/io/write.js';
import { arbHazard, expectedReadRefusal, expectedTrustRefusal, IS_ROOT, NOBODY, plant } from '../support/hazards.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'css-io-'));

function kindOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof FileError) return e.kind;
    throw e;
  }
}

describe('the reader', () => {
  test.prop([arbHazard([0, 10, 5000]), fc.boolean(), fc.boolean()], { numRuns: 120 })(
    'reads a regular file under the cap, refuses every other hazard by kind, and never blocks',
    (h, ownerCheck, noFollow) => {
      const root = tmp();
      const path = join(root, 'sb', 'file');
      const content = plant(path, h, join(root, 'outside'));
      const o = { what: 'the test file', maxBytes: 1000, ownerCheck, noFollow };
      const expected = expectedReadRefusal(h, o);
      let got: string | undefined;
      const kind = kindOf(() => {
        got = readUserFile(path, o);
      });
      expect(kind).toBe(expected);
      if (expected === null) expect(got).toBe(content);
    },
  );

  it('names the path and the problem, never the content', () => {
    const root = tmp();
    const f = join(root, 'token');
    writeFileSync(f, 's3cr3t-'.repeat(20000));
    expect(() => readUserFile(f, { what: '--token-file', maxBytes: MAX_TOKEN_BYTES })).toThrow(
      `--token-file '${f}' is 136.7 KB, over the 64 KB this tool reads; split it or remove what it does not need`,
    );
    const fifo = join(root, 'fifo');
    execFileSync('mkfifo', [fifo]);
    let message = '';
    try {
      readUserFile(fifo, { what: 'the .env', maxBytes: 10, fix: 'remove it' });
    } catch (e) {
      message = (e as Error).message;
      expect((e as FileError).exitCode).toBe(2);
    }
    expect(message).toBe(`the .env '${fifo}' is a FIFO (named pipe), not a regular file; remove it`);
  });

  it('refuses /dev/zero and a directory at once', () => {
    expect(kindOf(() => readUserFile('/dev/zero', { what: 'x', maxBytes: 10 }))).toBe('not-regular');
    expect(kindOf(() => readUserFile(tmp(), { what: 'x', maxBytes: 10 }))).toBe('not-regular');
  });

  it('IfExists is null only for nothing there', () => {
    const root = tmp();
    expect(readUserFileIfExists(join(root, 'none'), { what: 'x', maxBytes: 10 })).toBeNull();
    expect(readUserFileIfExists(join(root, 'none', 'deeper'), { what: 'x', maxBytes: 10 })).toBeNull();
    execFileSync('mkfifo', [join(root, 'p')]);
    expect(kindOf(() => readUserFileIfExists(join(root, 'p'), { what: 'x', maxBytes: 10 }))).toBe('not-regular');
  });

  it('reads the head or the tail of a file of any size', () => {
    const f = join(tmp(), 'log');
    writeFileSync(f, `#!/usr/bin/python3\n${'-'.repeat(3_000_000)}\nlast line\n`);
    expect(readUserFileWindow(f, { what: 'x', maxBytes: 19, from: 'start' })).toBe('#!/usr/bin/python3\n');
    expect(readUserFileWindow(f, { what: 'x', maxBytes: 10, from: 'end' })).toBe('last line\n');
  });

  it('says sizes in the unit that reads plainly', () => {
    expect(formatBytes(12)).toBe('12 bytes');
    expect(formatBytes(64 * 1024)).toBe('64 KB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MB');
  });
});

describe('the writer', () => {
  it('writes through a symlink the user made: the link stays, its target gets the content', () => {
    const root = tmp();
    writeFileSync(join(root, 'elsewhere.yaml'), 'old\n');
    symlinkSync('elsewhere.yaml', join(root, 'secrets-sandbox.yaml'));
    writeFileAtomic(join(root, 'secrets-sandbox.yaml'), 'new\n', 0o600);
    expect(lstatSync(join(root, 'secrets-sandbox.yaml')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'secrets-sandbox.yaml'))).toBe('elsewhere.yaml');
    expect(readFileSync(join(root, 'elsewhere.yaml'), 'utf8')).toBe('new\n');
    expect(statSync(join(root, 'elsewhere.yaml')).mode & 0o777).toBe(0o600);
    expect(readdirSync(root).sort()).toEqual(['elsewhere.yaml', 'secrets-sandbox.yaml']);
  });

  it('follows a chain of links, and creates the target of a dangling one', () => {
    const root = tmp();
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real', 'cfg.yaml'), join(root, 'b'));
    symlinkSync('b', join(root, 'a'));
    expect(writeTarget(join(root, 'a'))).toBe(join(root, 'real', 'cfg.yaml'));
    writeFileAtomic(join(root, 'a'), 'x', 0o644);
    expect(readFileSync(join(root, 'real', 'cfg.yaml'), 'utf8')).toBe('x');
    expect(lstatSync(join(root, 'a')).isSymbolicLink()).toBe(true);
  });

  it.skipIf(!IS_ROOT)('refuses a link another user planted, and a target another user owns, writing nothing', () => {
    const root = tmp();
    const victim = join(root, 'victim');
    writeFileSync(victim, 'keep');
    symlinkSync(victim, join(root, '.env'));
    lchownSync(join(root, '.env'), NOBODY, NOBODY);
    expect(kindOf(() => writeFileAtomic(join(root, '.env'), 'A=1', 0o600))).toBe('foreign-owner');
    expect(readFileSync(victim, 'utf8')).toBe('keep');
    const theirs = join(root, 'theirs');
    writeFileSync(theirs, 'keep');
    lchownSync(theirs, NOBODY, NOBODY);
    symlinkSync(theirs, join(root, 'docker.env'));
    expect(kindOf(() => writeFileAtomic(join(root, 'docker.env'), 'A=1', 0o600))).toBe('foreign-owner');
    expect(readFileSync(theirs, 'utf8')).toBe('keep');
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the trust boundary', () => {
  test.prop([arbHazard([10]), fc.constantFrom<'dir' | 'file'>('dir', 'file'), fc.boolean()], { numRuns: 150 })(
    'judges every entry kind x owner x mode x link shape as the rules say',
    (h, kind, recorded) => {
      const root = tmp();
      const sb = join(root, 'sb');
      mkdirSync(sb, { mode: 0o755 });
      chmodSync(sb, 0o755);
      const path = join(sb, 'entry');
      plant(path, h, join(root, 'outside'));
      const ctx = { sandboxDir: sb, links: recorded ? {} : undefined, env: {} };
      expect(trustProblem({ path, what: 'the entry', kind }, ctx)?.kind ?? null).toBe(
        expectedTrustRefusal(h, kind, recorded),
      );
    },
  );

  it('accepts a link out that was recorded at creation, and refuses it once it points elsewhere', () => {
    const root = tmp();
    const sb = join(root, 'sb');
    mkdirSync(join(root, 'airflow', 'dags'), { recursive: true });
    mkdirSync(join(root, 'other'), { recursive: true });
    mkdirSync(sb);
    symlinkSync(join(root, 'airflow', 'dags'), join(sb, 'dags'));
    const entries = [{ path: join(sb, 'dags'), what: 'the DAG folder', kind: 'dir' as const }];
    const links = recordLinks(sb, entries);
    expect(links).toEqual({ dags: join(root, 'airflow', 'dags') });
    expect(() => assertTrusted(entries, { sandboxDir: sb, links, env: {} })).not.toThrow();
    execFileSync('ln', ['-sfn', join(root, 'other'), join(sb, 'dags')]);
    expect(() => assertTrusted(entries, { sandboxDir: sb, links, env: {} })).toThrow(
      `the DAG folder '${join(sb, 'dags')}' links to '${join(root, 'other')}', outside the sandbox`,
    );
    // The user's opt-in for the directory it points into.
    expect(() =>
      assertTrusted(entries, { sandboxDir: sb, links, env: { [TRUSTED_DIRS_ENV]: join(root, 'other') } }),
    ).not.toThrow();
  });

  it.skipIf(!IS_ROOT)('names the path and its owner, and the opt-in lets a shared dir through', () => {
    const root = tmp();
    const sb = join(root, 'secrets-sandbox');
    mkdirSync(sb);
    lchownSync(sb, NOBODY, NOBODY);
    const e = [{ path: sb, what: 'the sandbox directory', kind: 'dir' as const }];
    expect(() => assertTrusted(e, { sandboxDir: sb, env: {} })).toThrow(
      new RegExp(`^the sandbox directory '${sb}' is owned by \\S+ \\(uid ${NOBODY}\\), not by you; if you trust it`),
    );
    expect(() => assertTrusted(e, { sandboxDir: sb, env: { [TRUSTED_DIRS_ENV]: sb } })).not.toThrow();
    expect(() => assertTrusted(e, { sandboxDir: sb, env: { [TRUSTED_DIRS_ENV]: '*' } })).not.toThrow();
    // A relative entry in the list is ignored: it would mean a different dir in every cwd.
    expect(() => assertTrusted(e, { sandboxDir: sb, env: { [TRUSTED_DIRS_ENV]: 'secrets-sandbox' } })).toThrow();
  });

  it('a world-writable dir is fine when sticky and mine, refused otherwise', () => {
    const root = tmp();
    const d = join(root, 'd');
    mkdirSync(d);
    chmodSync(d, 0o1777);
    expect(trustProblem({ path: d, what: 'd', kind: 'dir' }, { sandboxDir: d, env: {} })).toBeNull();
    chmodSync(d, 0o777);
    expect(trustProblem({ path: d, what: 'd', kind: 'dir' }, { sandboxDir: d, env: {} })?.message).toBe(
      `d '${d}' is writable by everyone (mode 0777); make it yours alone (chmod go-w '${d}'), or if you trust it, list its directory in ${TRUSTED_DIRS_ENV} (README: Security); otherwise use a sandbox of your own`,
    );
  });

  it.skipIf(!IS_ROOT)('an executable of another user, or in a dir others can change, is never run', () => {
    const root = tmp();
    const bin = join(root, 'server.bin');
    writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
    expect(() => assertTrustedExecutable(bin, 'the server binary', {})).not.toThrow();
    lchownSync(bin, NOBODY, NOBODY);
    expect(() => assertTrustedExecutable(bin, 'the server binary', {})).toThrow(/owned by .*uid 65534/);
    const link = join(root, 'vault');
    symlinkSync(bin, link);
    expect(() => assertTrustedExecutable(link, 'the server binary', {})).toThrow(/through the link to/);
    const ww = join(root, 'ww');
    mkdirSync(ww);
    chmodSync(ww, 0o777);
    writeFileSync(join(ww, 'python'), '', { mode: 0o755 });
    expect(() => assertTrustedExecutable(join(ww, 'python'), 'the interpreter', {})).toThrow(
      /a directory another user can change/,
    );
    expect(() => assertTrustedExecutable('/bin/sh', 'sh', {})).not.toThrow();
  });
});
