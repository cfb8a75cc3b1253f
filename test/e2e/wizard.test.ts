/**
 * The wizard in a real pseudo-terminal (Python's pty, the screen rendered by pyte), answered key by
 * key as a person would: a first run with a typo, a rerun that adds a connection, and Ctrl-C while
 * the server starts. At each named point the screen is compared with a reviewed text snapshot in
 * test/e2e/wizard-screens/ (linked from the README), so a reviewer can read the wizard without
 * running it. Ctrl-C at each question is test/e2e/wizard-cancel.test.ts.
 */
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, scaled, serverBinary, VENV_PYTHON } from '../support/env.js';
import { freePort, runCli, serversUnder, workspaces } from '../support/sandbox.js';
import { drive, ENTER, DOWN, CTRL_C, CTRL_U, screenFile, snapshotsApply } from '../support/wizard-drive.js';

const BIN = serverBinary();
const skipReason = missing('server binary', BIN) ?? missing('test-tools venv python', VENV_PYTHON);
const space = workspaces(BIN);

describe.skipIf(skipReason)('the wizard in a terminal', () => {
  it(
    'a first run: every answer stays on screen, a typo is named once and Ctrl-U clears it, a summary before the start',
    async () => {
      const port = await freePort();
      const w = space({ SECRETS_SANDBOX_DEFAULT_PORT: String(port) });
      const out = await drive(
        w,
        [],
        [
          ['Sandbox directory', ENTER, 'first-run-1-start'],
          ['Listen address', ENTER],
          ['Root token', ENTER],
          ['KV mount', ENTER],
          ['connections_path', ENTER],
          ['variables_path', ENTER],
          ['How Airflow logs in', ENTER],
          ['Airflow version', `${DOWN}${ENTER}`],
          ['Connection ID=URI', 'my_pg=postgres//u:pw@db:5432/app'],
          ["where 'postgres://' belongs", ENTER],
          ["▸ connection 'my_pg'", CTRL_U, 'first-run-2-typo'],
          ['empty to finish', 'my_pg=postgres://u:pw@db:5432/app'],
          ['Password: \\*\\*\\*', ENTER],
          ['empty when done', ENTER],
          ['Variable KEY=VALUE', `env=dev${ENTER}`],
          ['Variable KEY=VALUE', ENTER],
          ['Write the example DAG', ENTER],
          ['Final check', `${DOWN}${ENTER}`],
          ['Go ahead\\?', ENTER, 'first-run-3-summary'],
          ['Sandbox ready', ''],
        ],
      );
      expect(out.stuck_at, out.transcript.slice(-3000)).toBeNull();
      expect(out.code, out.transcript.slice(-3000)).toBe(0);
      const screens = out.screens(port);
      // The refusal stands once, naming the field and the value (its password masked).
      const typo = screens['first-run-2-typo'] ?? '';
      expect(typo.match(/starts with 'postgres\/\/' where 'postgres:\/\/' belongs/g)).toHaveLength(1);
      expect(typo).toContain("connection 'my_pg': the URI 'postgres//u:****@db:5432/app'");
      const summary = screens['first-run-3-summary'] ?? '';
      for (const answer of [
        'Sandbox directory · secrets-sandbox',
        'Listen address (the default, free now) · 127.0.0.1:<port>',
        'Connection ID=URI, or a file to import (empty for smtp_default) · my_pg=postgres://u:****@db:5432/app',
        'Write the example DAG? (Y/n) · yes',
        'Final check · vault',
      ])
        expect(summary, 'every answer stays on screen').toContain(answer);
      expect(summary).toMatch(/server +start OpenBao|server +start Vault/);
      expect(summary).toContain('connections  my_pg  postgres://u:****@db:5432/app  (new)');
      expect(summary, 'the typed password stays only while typed').not.toContain('u:pw@');
      const dir = join(w.cwd, 'secrets-sandbox');
      const cfg = readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8');
      expect(cfg).toContain('my_pg: postgres://u:pw@db:5432/app');
      expect(cfg).toContain('env: dev');
      if (snapshotsApply)
        for (const [name, text] of Object.entries(screens))
          await expect(text).toMatchFileSnapshot(screenFile(name === 'end' ? 'first-run-4-done' : name));
      await runCli(w, ['down']);
    },
    scaled(100_000),
  );

  it(
    'a rerun shows what the config and the server hold, and adding my_pg keeps the example smtp_default',
    async () => {
      const port = await freePort();
      const w = space({ SECRETS_SANDBOX_DEFAULT_PORT: String(port) });
      const first = await runCli(w, ['--yes', '--check', 'vault']);
      expect(first.code, first.stderr).toBe(0);
      const out = await drive(
        w,
        [],
        [
          ['Sandbox directory', ENTER],
          ['Listen address', ENTER, 'rerun-1-overview'],
          ['Root token', ENTER],
          ['KV mount', ENTER],
          ['connections_path', ENTER],
          ['variables_path', ENTER],
          ['How Airflow logs in', ENTER],
          ['Airflow version', ENTER],
          ['Connections to keep', ENTER],
          ['Connection ID=URI', `my_pg=postgres://u:pw@db:5432/app${ENTER}`],
          ['empty when done', ENTER],
          ['Variable KEY=VALUE', ENTER],
          ['Write the example DAG', ENTER],
          ['Final check', ENTER],
          ['Go ahead\\?', ENTER, 'rerun-2-summary'],
          ['Sandbox ready', ''],
        ],
      );
      expect(out.stuck_at, out.transcript.slice(-3000)).toBeNull();
      expect(out.code, out.transcript.slice(-3000)).toBe(0);
      const screens = out.screens(port);
      const overview = screens['rerun-1-overview'] ?? '';
      expect(overview).toContain('(the example smtp_default is used)');
      expect(overview).toContain('holds connections smtp_default');
      // The default that is true now: the port this sandbox's server holds.
      expect(overview).toContain("Listen address (this sandbox's server runs there now) ‣ 127.0.0.1:<port>");
      expect(screens['rerun-2-summary']).toContain(
        'smtp_default  smtps://user:****@relay.example.com:465  (kept, now written in the config)',
      );
      const cfg = readFileSync(join(w.cwd, 'secrets-sandbox', 'secrets-sandbox.yaml'), 'utf8');
      expect(cfg).toContain('smtp_default: smtps://user:host@relay.example.com:465');
      expect(cfg).toContain('my_pg: postgres://u:pw@db:5432/app');
      expect(out.transcript).toContain('resolve all 2 connection(s)');
      if (snapshotsApply)
        for (const [name, text] of Object.entries(screens))
          await expect(text).toMatchFileSnapshot(screenFile(name === 'end' ? 'rerun-3-done' : name));
      await runCli(w, ['down']);
    },
    scaled(100_000),
  );

  it(
    'Ctrl-C while the server starts: one sentence naming the step, the directory as it was, no server',
    async () => {
      const port = await freePort();
      const w = space({ SECRETS_SANDBOX_DEFAULT_PORT: String(port) });
      // A server that takes its time to start, so the interrupt lands during the start.
      const slow = join(w.root, 'slow-server');
      writeFileSync(slow, `#!/bin/sh\n[ "$1" = server ] && sleep 4\nexec '${BIN}' "$@"\n`);
      chmodSync(slow, 0o755);
      const out = await drive(
        w,
        ['--yes', '--vault-bin', slow, '--check', 'vault'],
        [['Start the dev server', CTRL_C]],
      );
      expect(out.stuck_at, out.transcript.slice(-3000)).toBeNull();
      expect(out.code, out.transcript.slice(-3000)).toBe(130);
      const end = out.screens(port).end ?? '';
      expect(end).toContain(
        "interrupted by Ctrl-C (SIGINT) during 'Start the dev server': stopped the server it had started, and removed what this run had created (secrets-sandbox), so the directory is as it was.",
      );
      expect(end).not.toMatch(/ready:\s*$/m);
      expect(readdirSync(w.cwd)).toEqual([]);
      expect(serversUnder(w.root)).toEqual([]);
      if (snapshotsApply) await expect(end).toMatchFileSnapshot(screenFile('interrupt-during-start'));
    },
    scaled(60_000),
  );
});
