/**
 * The wizard in a real pseudo-terminal (Python's pty, from the project venv), answered key by key
 * as a person would; and Ctrl-C at a prompt, which must leave nothing behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, missing, ROOT, serverBinary, VENV_PYTHON, scaled } from '../support/env.js';
import { cleanup, freePort, runCli, runProcess, serversUnder, workspace, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary', BIN) ?? missing('test-tools venv python', VENV_PYTHON);
const spaces: Workspace[] = [];
const ENTER = '\r';
const DOWN = '\x1b[B';
const ERASE = '\x7f'.repeat(60);

afterEach(() => {
  for (const w of spaces.splice(0)) expect(cleanup(w)).toEqual([]);
});

async function drive(
  w: Workspace,
  args: string[],
  steps: [string, string][],
  timeout = 120,
): Promise<{ code: number; transcript: string; stuck_at: number | null }> {
  const r = await runProcess(VENV_PYTHON, [join(ROOT, 'test', 'support', 'pty_drive.py')], {
    input: JSON.stringify({
      cmd: [process.execPath, CLI, ...args],
      cwd: w.cwd,
      env: { ...w.env, TERM: 'xterm-256color', COLUMNS: '160', LINES: '50' },
      steps,
      timeout,
    }),
    timeoutMs: (timeout + 30) * 1000,
  });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { code: number; transcript: string; stuck_at: number | null };
}

describe.skipIf(skipReason)('the wizard in a terminal', () => {
  it(
    'asks every question, validates as you type, and ends with a verified sandbox',
    async () => {
      const w = workspace(BIN);
      spaces.push(w);
      const port = await freePort();
      const out = await drive(
        w,
        [],
        [
          ['Sandbox directory', ENTER],
          ['Listen address', `${ERASE}127.0.0.1:${port}${ENTER}`],
          ['Root token', ENTER],
          ['KV mount', ENTER],
          ['connections_path', ENTER],
          ['variables_path', ENTER],
          ['How Airflow logs in', ENTER],
          ['Airflow version', `${DOWN}${ENTER}`],
          ['Connection ID=URI', 'x=mysql://u:pa/ss@h/db'],
          ['part of the password as the port', ENTER],
          ['part of the password as the port', `${ERASE}pg=postgres://u:p%40ss@db:5432/app`],
          ['id: pg\\. Host: db, Port: 5432, Schema: app, Login: u, Password: \\*\\*\\*', ENTER],
          ['Connection ID=URI', ENTER],
          ['Variable KEY=VALUE', `env=dev${ENTER}`],
          ['Variable KEY=VALUE', ENTER],
          ['Write the example DAG', ENTER],
          ['Final check', `${DOWN}${ENTER}`],
          ['Sandbox ready', ''],
        ],
      );
      expect(out.stuck_at, out.transcript.slice(-3000)).toBeNull();
      expect(out.code, out.transcript.slice(-3000)).toBe(0);
      const dir = join(w.cwd, 'secrets-sandbox');
      const cfg = readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8');
      expect(cfg).toContain('pg: postgres://u:p%40ss@db:5432/app');
      expect(cfg).toContain('env: dev');
      expect(cfg).toContain('version: "3"');
      expect(cfg).toContain('check: vault');
      expect(readFileSync(join(dir, '.env'), 'utf8')).toContain(`VAULT_ADDR='http://127.0.0.1:${port}'`);
      expect(out.transcript).toContain('Using connection to: id: pg. Host: db');
      // The rerun needs no questions: the config answers them.
      const again = await runCli(w, ['--yes', '--json']);
      expect(again.code, again.stderr).toBe(0);
      await runCli(w, ['down']);
      expect(serversUnder(w.root)).toEqual([]);
    },
    scaled(180_000),
  );

  it('Ctrl-C at a prompt exits 130 with nothing written and nothing started', async () => {
    const w = workspace(BIN);
    spaces.push(w);
    const out = await drive(
      w,
      [],
      [
        ['Sandbox directory', ENTER],
        ['Listen address', '\x03'],
      ],
    );
    expect(out.stuck_at).toBeNull();
    expect(out.code).toBe(130);
    expect(out.transcript).toMatch(/cancelled/i);
    expect(readdirSync(w.cwd)).toEqual([]);
    expect(existsSync(join(w.cwd, 'secrets-sandbox'))).toBe(false);
    expect(serversUnder(w.root)).toEqual([]);
  });
});
