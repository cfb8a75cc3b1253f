/** Facts in .sandbox/state.json (corrupt, copied, the flat layout of earlier versions), sandbox discovery, and the lock. */
import { mkdirSync, mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearServer, findSandboxDir, readFacts, readState, sandboxPaths, writeState } from '../../src/sandbox.js';
import { acquireLock } from '../../src/lock.js';

function fresh() {
  const dir = join(mkdtempSync(join(tmpdir(), 'css-unit-')), 'sb');
  mkdirSync(join(dir, '.sandbox'), { recursive: true });
  return sandboxPaths(dir);
}

describe('state.json facts', () => {
  it('missing, corrupt and copied are told apart; a copy gets a new id and no server', () => {
    const p = fresh();
    expect(readFacts(p).status).toBe('missing');
    writeFileSync(p.state, '{"server": {"pid": ');
    const c = readFacts(p);
    expect(c.status).toBe('corrupt');
    expect(c.error).toMatch(/not JSON/);
    writeFileSync(
      p.state,
      JSON.stringify({
        sandboxId: 'abc',
        dir: '/somewhere/else',
        bin: '/x/bao',
        address: '127.0.0.1:9',
        server: { pid: 42, address: '127.0.0.1:9', url: 'http://127.0.0.1:9', startedAt: '', tokenSource: 'server' },
      }),
    );
    const copied = readFacts(p);
    expect(copied.status).toBe('copied');
    expect(copied.facts.sandboxId).not.toBe('abc');
    expect(copied.facts.server).toBeUndefined();
    expect(copied.facts.bin).toBe('/x/bao');
    expect(readState(p)).toBeNull();
  });

  it('reads the flat layout of earlier versions, and clearServer keeps the other facts', () => {
    const p = fresh();
    writeFileSync(
      p.state,
      JSON.stringify({
        pid: 7,
        address: '[::1]:8311',
        url: 'http://[::1]:8311',
        flavour: 'OpenBao',
        version: '2.1.0',
        bin: '/b/bao',
        startedAt: 't',
        tokenSource: 'user',
      }),
    );
    expect(readState(p)).toMatchObject({ pid: 7, address: '[::1]:8311', tokenSource: 'user' });
    writeState(p, {
      pid: 9,
      address: '127.0.0.1:8201',
      url: 'http://127.0.0.1:8201',
      flavour: 'OpenBao',
      version: '2.2.0',
      bin: '/b/bao',
      startedAt: 'now',
      tokenSource: 'server',
      sandboxId: 'id1',
    });
    clearServer(p);
    const f = readFacts(p);
    expect(f.status).toBe('ok');
    expect(f.facts).toMatchObject({ sandboxId: 'id1', address: '127.0.0.1:8201', bin: '/b/bao', version: '2.2.0' });
    expect(f.facts.server).toBeUndefined();
  });
});

describe('which sandbox a command means', () => {
  it('the dir given, else the cwd when it holds secrets-sandbox.yaml, else ./secrets-sandbox', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'css-unit-'));
    expect(findSandboxDir('x', cwd)).toBe(join(cwd, 'x'));
    expect(findSandboxDir(undefined, cwd)).toBe(join(cwd, 'secrets-sandbox'));
    writeFileSync(join(cwd, 'secrets-sandbox.yaml'), 'version: 1\n');
    expect(findSandboxDir(undefined, cwd)).toBe(cwd);
  });
});

describe('the lock', () => {
  it('a dead holder is taken over; a live one is named after the wait; release removes only our own', async () => {
    const p = fresh();
    writeFileSync(p.lock, '999999999\n');
    const lock = await acquireLock(p, 0);
    expect(readFileSync(p.lock, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(p.lock)).toBe(false);
    writeFileSync(p.lock, `${process.ppid}\n`);
    await expect(acquireLock(p, 200)).rejects.toThrow(`another run (pid ${process.ppid}) is changing this sandbox`);
    expect(readFileSync(p.lock, 'utf8').trim()).toBe(String(process.ppid));
  });
});
