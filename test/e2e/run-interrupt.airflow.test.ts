/**
 * Ctrl-C in the middle of `--check run` on real Airflow 3.3.2, once every component is up and the
 * DAG is triggered: the CLI exits 130 and stops every process the run started (the components in
 * their process groups, the executor's workers, a task under its supervisor in a group of its own,
 * the run driver); nothing of the run is left running or listening, and its record is cleared.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { cleanup, freePort, runCli, workspace, type Workspace } from '../support/sandbox.js';
import { airflowProcessesUnder, listeningPorts, portsOfRun, runCliWatching } from '../support/airflow-run.js';

const BIN = serverBinary();
const AIRFLOW = join(ROOT, '.venvs', 'airflow3', 'bin');
const spaces: Workspace[] = [];
afterEach(() => {
  for (const w of spaces.splice(0)) {
    for (const p of airflowProcessesUnder(w.root))
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    expect(cleanup(w), 'a server process was left running').toEqual([]);
  }
});

const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW, 'airflow'));

describe.skipIf(skipReason)('--check run interrupted on Airflow 3', () => {
  it('SIGINT once the DAG is triggered: exit 130, every process of the run stopped, nothing listening', async () => {
    const w = workspace(BIN);
    w.env.PATH = `${AIRFLOW}${delimiter}${w.env.PATH}`;
    spaces.push(w);
    let sent = false;
    let seenAirflow: number[] = [];
    const run = await runCliWatching(
      w,
      ['--yes', '--check', 'run', '--address', `127.0.0.1:${await freePort()}`],
      (line, signal) => {
        if (!sent && line.includes('triggered example_secrets_dag')) {
          sent = true;
          // What runs now: the run must stop all of it.
          seenAirflow = airflowProcessesUnder(w.root).map((p) => p.pid);
          signal('SIGINT');
        }
      },
      { timeoutMs: scaled(240_000) },
    );
    const out = run.stdout + run.stderr;
    expect(sent, out).toBe(true);
    expect(run.code, out).toBe(130);
    expect(out).toContain('interrupted');
    // Components, the executor's workers and the driver were running when it was interrupted.
    expect(seenAirflow.length).toBeGreaterThanOrEqual(4);
    expect(airflowProcessesUnder(w.root)).toEqual([]);
    const listening = listeningPorts();
    for (const p of portsOfRun(out)) expect(listening.has(p), `port ${p} still listening`).toBe(false);
    // The run's record is gone with it (a first run that was interrupted may leave no state at all).
    const stateFile = join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json');
    const state = existsSync(stateFile)
      ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { airflowRun?: unknown })
      : {};
    expect(state.airflowRun).toBeUndefined();
    expect((await runCli(w, ['down'])).code).toBe(0);
  });
});
