/**
 * Ctrl-C at each question of the wizard, in a real pseudo-terminal: every one ends with exit 130,
 * one sentence naming the question, nothing written (the directory as it was) and nothing started.
 * The last lines of each screen are compared with the reviewed test/e2e/wizard-screens/cancel-at-each-question.txt.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { missing, scaled, serverBinary, VENV_PYTHON } from '../support/env.js';
import { freePort, serversUnder, workspaces } from '../support/sandbox.js';
import { CTRL_C, DOWN, drive, ENTER, screenFile, snapshotsApply } from '../support/wizard-drive.js';

const BIN = serverBinary();
const skipReason = missing('server binary', BIN) ?? missing('test-tools venv python', VENV_PYTHON);
const space = workspaces(BIN);

/** Each question of a first run, in order, and the keys that answer it. */
const QUESTIONS: [string, string, string][] = [
  ['Sandbox directory', 'Sandbox directory', ENTER],
  ['Listen address', 'Listen address', ENTER],
  ['Root token', 'Root token', ENTER],
  ['KV mount', 'KV mount', ENTER],
  ['connections_path', 'connections_path', ENTER],
  ['variables_path', 'variables_path', ENTER],
  ['How Airflow logs in to Vault', 'How Airflow logs in', ENTER],
  ['Airflow version', 'Airflow version', `${DOWN}${ENTER}`],
  ['Connection ID=URI, or a file to import', 'Connection ID=URI', ENTER],
  ['Variable KEY=VALUE', 'Variable KEY=VALUE', ENTER],
  ['Write the example DAG?', 'Write the example DAG', ENTER],
  ['Final check', 'Final check', `${DOWN}${ENTER}`],
  ['Go ahead?', 'Go ahead\\?', ENTER],
];

describe.skipIf(skipReason)('Ctrl-C at each question of the wizard', () => {
  it(
    'exits 130 naming the question, with nothing written and nothing started',
    async () => {
      const seen: string[] = [];
      for (let i = 0; i < QUESTIONS.length; i++) {
        const [question, pattern] = QUESTIONS[i] ?? ['', '', ''];
        const port = await freePort();
        const w = space({ SECRETS_SANDBOX_DEFAULT_PORT: String(port) });
        const before = QUESTIONS.slice(0, i).map(([, p, keys]) => [p, keys] as [string, string]);
        const out = await drive(w, [], [...before, [pattern, CTRL_C]], 60);
        expect(out.stuck_at, out.transcript.slice(-2000)).toBeNull();
        expect(out.code, `${question}: ${out.transcript.slice(-2000)}`).toBe(130);
        const end = (out.screens(port).end ?? '').trimEnd().split('\n');
        expect(end.at(-1)).toBe(`cancelled at '${question}': nothing was written or started.`);
        expect(readdirSync(w.cwd), `${question}: the directory as it was`).toEqual([]);
        expect(serversUnder(w.root)).toEqual([]);
        seen.push(`# Ctrl-C at '${question}'`, ...end.slice(-2), '');
      }
      if (snapshotsApply) await expect(seen.join('\n')).toMatchFileSnapshot(screenFile('cancel-at-each-question'));
    },
    scaled(110_000),
  );
});
