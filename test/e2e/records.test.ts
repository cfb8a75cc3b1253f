/**
 * Crash-consistent records, on the real server: the intent to start a server is recorded before the
 * spawn, and a server is this sandbox's by identity (the sandbox id in its environment and the
 * private HOME as its cwd), never by the path or a pid a cut run may not have recorded. A record
 * that cannot be written is the first error reported, and a failed first run leaves what the rerun
 * needs to converge. (Another user's view of root's sandbox is the trust boundary's: test/e2e/trust.test.ts.)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CLI, IN_CI, limit, missing, serverBinary } from '../support/env.js';
import { envOf, freePort, runCli, serversUnder, workspaces, type Run, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);
const CONN_ARGS = ['--conn', 'pg=postgres://u:p%40ss@db:5432/app', '--check', 'vault'];

function ok(r: Run, what: string): Run {
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stderr, what).not.toMatch(/unexpected error|at .*\.js:\d+/);
  return r;
}

/** The sandbox's .env works: its token reads the seeded connection at its address. */
async function envWorks(dir: string, what: string): Promise<void> {
  const env = envOf(dir);
  const res = await fetch(`${env.get('VAULT_ADDR')}/v1/secret/data/connections/pg`, {
    headers: { 'X-Vault-Token': env.get('VAULT_TOKEN') ?? '' },
  });
  expect(res.status, `${what}: the .env token reads pg at ${env.get('VAULT_ADDR')}`).toBe(200);
}

/** The CLI as node on its entry: a SIGKILL hits the CLI itself, not a launcher in front of it. */
function spawnCli(w: Workspace, args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: w.cwd, env: w.env, stdio: 'ignore' });
  const done = new Promise<void>((res) => child.on('close', () => res()));
  return { child, done };
}

/** True once state.json records the intent to start a server (written just before the spawn). */
function intentRecorded(dir: string): boolean {
  try {
    return readFileSync(join(dir, '.sandbox', 'state.json'), 'utf8').includes('"server"');
  } catch {
    return false;
  }
}

describe.skipIf(skipReason)('crash-consistent records', () => {
  it('SIGKILL of create at evenly spread instants after the spawn: down stops every server, and the rerun converges', async () => {
    const w = ws();
    w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    const dir = join(w.cwd, 'secrets-sandbox');
    // How long a whole run takes here, from the intent on: the window the kills are spread over.
    const t0 = Date.now();
    const whole = spawnCli(w, ['--yes', ...CONN_ARGS]);
    while (!intentRecorded(dir) && Date.now() - t0 < limit(10_000)) await sleep(2);
    const tIntent = Date.now();
    await whole.done;
    const window = Math.max(50, Date.now() - tIntent);
    ok(await runCli(w, ['down']), 'down after the measuring run');
    const INSTANTS = 12;
    for (let k = 0; k < INSTANTS; k++) {
      const at = Math.round((k * window) / INSTANTS);
      const run = spawnCli(w, ['--yes', ...CONN_ARGS]);
      const start = Date.now();
      while (!intentRecorded(dir) && Date.now() - start < limit(10_000)) await sleep(1);
      await sleep(at);
      run.child.kill('SIGKILL');
      await run.done;
      const down = await runCli(w, ['down']);
      ok(down, `down after a SIGKILL ${at} ms after the intent`);
      expect(serversUnder(w.root), `servers left after a SIGKILL ${at} ms after the intent`).toEqual([]);
    }
    ok(await runCli(w, ['--yes', ...CONN_ARGS]), 'rerun after the kills');
    expect(serversUnder(w.root)).toHaveLength(1);
    await envWorks(dir, 'rerun after the kills');
    ok(await runCli(w, ['down']), 'down');
  });

  it('a sandbox dir renamed while its server runs: status and down find it by identity; up reuses it, never failing on the port', async () => {
    const w = ws();
    const port = await freePort();
    const first = join(w.cwd, 'secrets-sandbox');
    ok(await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`, ...CONN_ARGS]), 'create');
    const renamed = join(w.cwd, 'renamed');
    renameSync(first, renamed);
    const st = ok(await runCli(w, ['status', 'renamed']), 'status after the rename');
    expect(st.stdout).toContain(`running: `);
    const down = ok(await runCli(w, ['down', 'renamed']), 'down after the rename');
    expect(down.stdout).toContain('stopped the sandbox server');
    expect(serversUnder(w.root)).toEqual([]);

    ok(await runCli(w, ['up', 'renamed']), 'up in the renamed dir');
    const pid = serversUnder(w.root)[0]?.pid;
    renameSync(renamed, join(w.cwd, 'again'));
    const up = ok(await runCli(w, ['up', 'again']), 'up after a second rename, server running');
    expect(up.stdout + up.stderr).not.toMatch(/in use|taken/);
    expect(serversUnder(w.root).map((s) => s.pid)).toEqual([pid]);
    await envWorks(join(w.cwd, 'again'), 'up after the rename');
    ok(await runCli(w, ['down', 'again']), 'down');
    expect(serversUnder(w.root)).toEqual([]);
  });

  it('ENOSPC on the first run (a tmpfs out of inodes): the first failure is reported with its step, no server is left, and the rerun with room converges without --force', async (t) => {
    const w = ws();
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(dir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,nr_inodes=8', 'tmpfs', dir], { stdio: 'pipe' });
      execFileSync('umount', [dir]);
    } catch (e) {
      const reason = `cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`;
      if (IN_CI) throw new Error(reason);
      t.skip(reason);
    }
    let failedRuns = 0;
    // From too few inodes for anything up to enough for a whole run: each budget cuts the first run elsewhere.
    for (let inodes = 4; inodes <= 40; inodes += 3) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=8m,nr_inodes=${inodes}`, 'tmpfs', dir]);
      try {
        const port = await freePort();
        const args = ['--yes', '--address', `127.0.0.1:${port}`, ...CONN_ARGS];
        const r = await runCli(w, args);
        expect(
          serversUnder(w.root),
          `a server left after the run with ${inodes} inodes: ${r.stdout}${r.stderr}`,
        ).toEqual(r.code === 0 ? serversUnder(w.root) : []);
        if (r.code !== 0) {
          failedRuns++;
          expect(r.code, `${inodes} inodes: ${r.stderr}`).toBe(1);
          expect(r.stderr, `${inodes} inodes`).toMatch(/✖ [A-Za-z ]+: .*(disk is full|no space left)/);
          expect(r.stderr, `${inodes} inodes`).not.toMatch(/unexpected error|at .*\.js:\d+/);
        }
        execFileSync('mount', ['-o', 'remount,nr_inodes=10000', dir]);
        ok(await runCli(w, args), `rerun with room after ${inodes} inodes`);
        await envWorks(dir, `rerun with room after ${inodes} inodes`);
        ok(await runCli(w, ['down']), 'down');
        if (r.code === 0) break;
      } finally {
        execFileSync('umount', ['-l', dir]);
      }
    }
    expect(failedRuns, 'some budgets must cut the first run').toBeGreaterThan(3);
  });
});
