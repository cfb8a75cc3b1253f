/**
 * `--check run --keep` on real Airflow 3.3.2: after the run the components stay up for the UI; the
 * printed address answers and the printed sign-in works (a token from Airflow's own /auth/token);
 * `status` shows every component running; `down` stops them with the server and nothing of the
 * run is left running or listening.
 */
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { cleanup, freePort, readJson, runCli, workspace, type Workspace } from '../support/sandbox.js';
import { airflowProcessesUnder, listeningPorts } from '../support/airflow-run.js';

const BIN = serverBinary();
const AIRFLOW = join(ROOT, '.venvs', 'airflow3', 'bin');
const spaces: Workspace[] = [];
afterEach(() => {
  for (const w of spaces.splice(0)) {
    // A failed test must not leave Airflow behind either.
    for (const p of airflowProcessesUnder(w.root))
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    expect(cleanup(w), 'a server process was left running').toEqual([]);
  }
});

interface Status {
  running: boolean;
  airflow?: {
    kept: boolean;
    ui: { url: string; sign_in: string } | null;
    components: { name: string; pid: number; running: boolean }[];
  };
}

const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW, 'airflow'));

describe.skipIf(skipReason)('--check run --keep on Airflow 3', () => {
  it('leaves the UI up with a sign-in that works; status shows it; down stops it all', async () => {
    const w = workspace(BIN);
    w.env.PATH = `${AIRFLOW}${delimiter}${w.env.PATH}`;
    spaces.push(w);
    const run = await runCli(w, ['--yes', '--check', 'run', '--keep', '--address', `127.0.0.1:${await freePort()}`], {
      timeoutMs: scaled(240_000),
    });
    const out = run.stdout + run.stderr;
    expect(run.code, out).toBe(0);
    const m = /the Airflow UI is at (http:\/\/127\.0\.0\.1:(\d+)) \(sign in with a user and password from (\S+)\)/.exec(
      out,
    );
    expect(m, out).not.toBeNull();
    const [, url = '', port = '', file = ''] = m ?? [];
    expect(out).toContain('`down` stops it with the server');

    // The UI answers, and the sign-in printed gets a token from Airflow itself.
    expect((await fetch(url)).status).toBe(200);
    const users = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    const [username = '', password = ''] = Object.entries(users)[0] ?? [];
    const auth = await fetch(`${url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(auth.status).toBe(201);
    expect(((await auth.json()) as { access_token?: string }).access_token).toBeTruthy();

    const st = readJson<Status>((await runCli(w, ['status', '--json'])).stdout);
    expect(st.airflow?.kept).toBe(true);
    expect(st.airflow?.ui?.url).toBe(url);
    expect(st.airflow?.components.map((c) => [c.name, c.running])).toEqual([
      ['api-server', true],
      ['scheduler', true],
      ['dag-processor', true],
    ]);

    const down = await runCli(w, ['down']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toContain('stopped Airflow (API server, scheduler, dag-processor)');
    expect(airflowProcessesUnder(w.root)).toEqual([]);
    expect(listeningPorts().has(Number(port))).toBe(false);
    const after = readJson<Status>((await runCli(w, ['status', '--json'])).stdout);
    expect(after.airflow).toBeUndefined();
  });
});
