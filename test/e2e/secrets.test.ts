/**
 * Secrets: the root token and connection passwords never show up where they should not, the
 * user's ~/.vault-token is never touched, and the server listens on loopback only.
 */
import { readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import { cleanup, freePort, runCli, serversUnder, workspace, type Run, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const spaces: Workspace[] = [];
const PASSWORD = 'Pw-Secret-9f3a7c';
const CANARY = 'canary-token-never-touch-me';

afterEach(() => {
  for (const w of spaces.splice(0)) expect(cleanup(w)).toEqual([]);
});

/** Listening sockets of a pid, as "ip:port" from /proc/net/tcp{,6}. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue; // 0A = LISTEN
      const [hexIp, hexPort] = f[1]!.split(':') as [string, string];
      const ip =
        hexIp.length === 8
          ? [3, 2, 1, 0].map((i) => parseInt(hexIp.slice(i * 2, i * 2 + 2), 16)).join('.')
          : hexIp === '00000000000000000000000001000000'
            ? '::1'
            : hexIp;
      out.push(`${ip}:${parseInt(hexPort, 16)}`);
    }
  }
  return out;
}

describe.skipIf(skipReason)('secrets', () => {
  it('the root token and the password appear in no output of any command, and ~/.vault-token is untouched', async () => {
    const w = workspace(BIN);
    spaces.push(w);
    const canary = join(w.home, '.vault-token');
    writeFileSync(canary, CANARY, { mode: 0o600 });
    const port = await freePort();
    const conn = `db=postgres://admin:${PASSWORD}@db.example.com:5432/app`;
    const runs: Run[] = [];
    const cli = async (args: string[]) => {
      const r = await runCli(w, args);
      runs.push(r);
      return r;
    };
    expect((await cli(['--yes', '--address', `127.0.0.1:${port}`, '--conn', conn])).code).toBe(0);
    await cli(['--yes', '--json', '--conn', conn]);
    await cli(['--yes', '--dry-run', '--conn', conn]);
    await cli(['--yes', '--dry-run', '--json']);
    await cli(['status']);
    await cli(['status', '--json']);
    await cli(['doctor']);
    await cli(['doctor', '--json', '-v']);
    await cli(['-v', '--yes']);
    // A failing run: the check fails against a wrong token; its error must not carry either secret.
    const envFile = join(w.cwd, 'secrets-sandbox', '.env');
    const token = /VAULT_TOKEN='([^']+)'/.exec(readFileSync(envFile, 'utf8'))![1]!;
    writeFileSync(
      envFile,
      readFileSync(envFile, 'utf8')
        .split(token)
        .join(token.slice(0, -3) + 'zzz'),
    );
    const failing = await cli(['--yes']);
    expect(failing.code).toBe(1);
    await cli(['doctor']);
    await cli(['down']);
    await cli(['up', '--json']);
    await cli(['down', '--json']);

    for (const r of runs) {
      const all = r.stdout + r.stderr;
      expect(all).not.toContain(token);
      expect(all).not.toContain(PASSWORD);
    }
    expect(readFileSync(canary, 'utf8')).toBe(CANARY);
    expect(statSync(canary).mode & 0o777).toBe(0o600);

    // --show-token is the one way to see it (--force: the .env edited above is kept otherwise, and its token is stale).
    expect((await runCli(w, ['up', '--json', '--show-token', '--force'])).stdout).toMatch(/"token": "[^"…]+"/);
    await runCli(w, ['down']);
    expect(readFileSync(canary, 'utf8')).toBe(CANARY);
  });

  it('the server listens on 127.0.0.1 only, and its argv and environment file carry no token', async () => {
    const w = workspace(BIN);
    spaces.push(w);
    const port = await freePort();
    expect(
      (await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`, '--root-token', 'argv-check-token'])).code,
    ).toBe(0);
    const [server] = serversUnder(w.root);
    expect(server).toBeDefined();
    const listening = listeningAddresses(server!.pid);
    expect(listening).toContain(`127.0.0.1:${port}`);
    for (const a of listening) expect(a.startsWith('127.0.0.1:')).toBe(true);
    expect(readFileSync(`/proc/${server!.pid}/cmdline`, 'utf8')).not.toContain('argv-check-token');
    const sandbox = join(w.cwd, 'secrets-sandbox');
    for (const f of [
      '.env',
      'docker.env',
      'secrets-sandbox.yaml',
      '.sandbox/state.json',
      '.sandbox/server.out',
      '.sandbox/server.log',
      '.sandbox/written.json',
    ]) {
      expect(statSync(join(sandbox, f)).mode & 0o777, f).toBe(0o600);
    }
    expect(statSync(join(sandbox, '.sandbox')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(sandbox, 'secrets-sandbox.yaml'), 'utf8')).not.toContain('argv-check-token');
    expect(readFileSync(join(sandbox, '.sandbox', 'state.json'), 'utf8')).not.toContain('argv-check-token');
    await runCli(w, ['down']);
  });
});
