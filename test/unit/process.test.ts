import { describe, expect, it } from 'vitest';
import { killRunningChildren, runFile, runLines } from '../../src/process.js';
import { isAlive } from '../../src/vault/server.js';

const SH = '/bin/sh';

describe('runFile', () => {
  it('collects stdout, stderr and the exit code of a program that fails', async () => {
    const r = await runFile(SH, ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(r.error).toBeTruthy();
  });

  it('feeds input on stdin and passes env and cwd', async () => {
    const r = await runFile(SH, ['-c', 'read x; echo "$x $FOO $(pwd)"'], {
      input: 'hello\n',
      env: { PATH: process.env.PATH, FOO: 'bar' },
      cwd: '/tmp',
    });
    expect(r).toMatchObject({ code: 0, stdout: 'hello bar /tmp\n' });
    expect(r.error).toBeUndefined();
  });

  it('does not leak the parent environment when env is given', async () => {
    process.env.CSS_PROCESS_TEST_SECRET = 'leak';
    const r = await runFile(SH, ['-c', 'echo "[$CSS_PROCESS_TEST_SECRET]"'], { env: { PATH: process.env.PATH } });
    delete process.env.CSS_PROCESS_TEST_SECRET;
    expect(r.stdout).toBe('[]\n');
  });

  it('reports a missing program as a failure, not a throw', async () => {
    const r = await runFile('/nonexistent/program', []);
    expect(r.code).not.toBe(0);
    expect(r.error).toBeTruthy();
  });

  it('ends a program that outlives its timeout, and says so', async () => {
    const t0 = Date.now();
    const r = await runFile(SH, ['-c', 'sleep 30'], { timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).not.toBe(0);
    expect(r.error).toMatch(/timed out after/);
  });

  it('a timeout also ends what the program started, so nothing outlives it', async () => {
    const r = await runFile(SH, ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 500 });
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(isAlive(grandchild)).toBe(false);
  });

  it('killRunningChildren ends every child still running', async () => {
    const pending = runFile(SH, ['-c', 'sleep 30']);
    await new Promise((res) => setTimeout(res, 200));
    const t0 = Date.now();
    killRunningChildren();
    const r = await pending;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.code).toBe(128 + 15);
  });
});

describe('runLines', () => {
  it('hands over each non-empty line of stdout and stderr as it arrives, and keeps a short tail', async () => {
    const seen: string[] = [];
    const r = await runLines(
      SH,
      ['-c', 'for i in 1 2 3 4 5 6 7; do echo "line $i"; done; echo; echo oops >&2; exit 1'],
      (l) => seen.push(l),
      { tailLines: 3 },
    );
    expect(seen).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'oops']);
    expect(r.code).toBe(1);
    expect(r.tail).toEqual(['line 6', 'line 7', 'oops']);
  });

  it('delivers a line before the program ends (streaming, not collected at exit)', async () => {
    let firstAt = 0;
    const t0 = Date.now();
    await runLines(SH, ['-c', 'echo first; sleep 1; echo second'], (l) => {
      if (l === 'first') firstAt = Date.now() - t0;
    });
    const total = Date.now() - t0;
    expect(firstAt).toBeGreaterThan(0);
    expect(total - firstAt).toBeGreaterThanOrEqual(800);
  });

  it('reports a program that cannot start', async () => {
    const r = await runLines('/nonexistent/program', [], () => {});
    expect(r.code).not.toBe(0);
    expect(r.error).toBeTruthy();
  });
});
