/**
 * Drives the tool in a real pseudo-terminal (test/support/pty_drive.py) and returns the screens a
 * person saw at named points, with what differs from machine to machine (temp dirs, ports, pids,
 * versions, the server binary's path, masked tokens) put in words, for the reviewed snapshots in
 * test/e2e/wizard-screens/.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { CLI, ROOT, VENV_PYTHON } from './env.js';
import { runProcess, type Workspace } from './sandbox.js';

export const ENTER = '\r';
export const DOWN = '\x1b[B';
export const CTRL_C = '\x03';
export const CTRL_U = '\x15';

/** The snapshots were taken with the project's OpenBao; another server (VAULT_BIN) draws other words. */
export const snapshotsApply = !process.env.VAULT_BIN;

export function screenFile(name: string): string {
  return join(ROOT, 'test', 'e2e', 'wizard-screens', `${name}.txt`);
}

const ROWS = 50;
const COLS = 200;

export interface Driven {
  code: number;
  transcript: string;
  stuck_at: number | null;
  /** The screens by name ("end": once the command exited), in stable words. */
  screens: (port: number) => Record<string, string>;
}

function stable(text: string, w: Workspace, port: number): string {
  return text
    .replace(/\/[^\s(),]*\/(bao|vault)(?=[\s),]|$)/gm, '<server binary>')
    .replaceAll(w.root, '<tmp>')
    .replaceAll(ROOT, '<repo>')
    .replaceAll(`:${port}`, ':<port>')
    .replace(/\bpid \d+/g, 'pid <n>')
    .replace(/\b(OpenBao|Vault) v?\d+\.\d+\.\d+[^\s)]*/g, '$1 <version>')
    .replace(/\S{4}…\(\d+ chars\)/g, '<masked token>');
}

export async function drive(
  w: Workspace,
  args: string[],
  steps: ([string, string] | [string, string, string])[],
  timeout = 90,
): Promise<Driven> {
  const r = await runProcess(VENV_PYTHON, [join(ROOT, 'test', 'support', 'pty_drive.py')], {
    input: JSON.stringify({
      cmd: [process.execPath, CLI, ...args],
      cwd: w.cwd,
      env: { ...w.env, TERM: 'xterm-256color', COLUMNS: String(COLS), LINES: String(ROWS) },
      steps,
      timeout,
      size: [ROWS, COLS],
    }),
    timeoutMs: (timeout + 30) * 1000,
  });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as Omit<Driven, 'screens'> & { screens: Record<string, string | null> };
  return {
    ...out,
    screens: (port) => {
      const s: Record<string, string> = {};
      for (const [k, v] of Object.entries(out.screens)) {
        expect(v, `pyte renders the screen '${k}' (requirements/test-tools.txt)`).not.toBeNull();
        s[k] = stable(v ?? '', w, port);
      }
      return s;
    },
  };
}
