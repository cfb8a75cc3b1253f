/**
 * --with-airflow: pip installs Airflow 3 into the sandbox (about 160 s on a 2-core runner). The
 * wait must be visible: without a terminal, a progress line at least every 10 s with a package
 * count that never exceeds the pinned total. Then Airflow resolves the seeded connection.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, missing, ROOT, serverBinary, scaled, SLOWDOWN } from '../support/env.js';
import { cleanup, freePort, readJson, runCli, runProcess, workspace, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const spaces: Workspace[] = [];
const PINNED = readFileSync(join(ROOT, 'requirements', 'airflow3.txt'), 'utf8')
  .split('\n')
  .filter((l) => /^[A-Za-z0-9._-]+==/.test(l)).length;

afterEach(() => {
  for (const w of spaces.splice(0)) expect(cleanup(w), 'a server process was left running').toEqual([]);
});

/** Runs the CLI with stdout a pipe (not a terminal) and notes when each line arrived. */
function runTimed(
  w: Workspace,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number; lines: { at: number; text: string }[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: w.cwd,
      env: { ...w.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const t0 = Date.now();
    const lines: { at: number; text: string }[] = [];
    let buf = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push({ at: Date.now() - t0, text: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, lines, stderr });
    });
  });
}

describe.skipIf(missing('server binary', BIN) ?? missing('python3 for venvs', '/usr/bin/python3'))(
  '--with-airflow',
  () => {
    it(
      'installs Airflow 3 into the sandbox .venv with a visible, correctly counted wait, and checks through it',
      async () => {
        const w = workspace(BIN);
        spaces.push(w);
        // The machine's pip cache, not the test's empty HOME: the download is not what is tested.
        const env = { PIP_CACHE_DIR: join(process.env.HOME ?? homedir(), '.cache', 'pip') };
        const run = await runTimed(
          w,
          ['--yes', '--with-airflow', '--address', `127.0.0.1:${await freePort()}`],
          env,
          scaled(600_000),
        );
        expect(run.code, run.lines.map((l) => l.text).join('\n') + run.stderr).toBe(0);

        const progress = run.lines.filter((l) => /installing Airflow/.test(l.text));
        expect(progress.length).toBeGreaterThan(2);
        // Never silent for more than 10 s while pip works (a little slack when the machine is loaded).
        const gaps = progress.slice(1).map((l, i) => l.at - progress[i]!.at);
        expect(Math.max(...gaps)).toBeLessThanOrEqual(10_000 * Math.min(SLOWDOWN, 1.5));
        expect(progress[0]!.at).toBeLessThanOrEqual(10_000 * Math.min(SLOWDOWN, 1.5));
        // Each package counted once: the count never passes the pinned total.
        const counts = progress.map((l) => /(\d+)\/(\d+) packages/.exec(l.text)).filter((m) => m !== null);
        expect(counts.length).toBeGreaterThan(0);
        for (const m of counts) {
          expect(Number(m![2])).toBe(PINNED);
          expect(Number(m![1])).toBeLessThanOrEqual(PINNED);
        }

        // A rerun finds the venv, does not reinstall, and Airflow resolves the seeded connection.
        const again = await runCli(w, ['--yes', '--json', '--with-airflow']);
        expect(again.code, again.stderr).toBe(0);
        const s = readJson<{
          airflow: { found: { version: string } | null };
          connections: { id: string; airflow: string }[];
        }>(again.stdout);
        expect(s.airflow.found?.version).toMatch(/^3\./);
        expect(s.connections[0]).toMatchObject({ id: 'smtp_default', airflow: 'ok' });
        const v = await runProcess(join(w.cwd, 'secrets-sandbox', '.venv', 'bin', 'airflow'), ['version'], {
          env: { ...w.env, AIRFLOW_HOME: join(w.root, 'afh') },
        });
        expect(v.stdout.trim()).toMatch(/^3\./);
        await runCli(w, ['down']);
      },
      scaled(900_000),
    );
  },
);
