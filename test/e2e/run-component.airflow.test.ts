/**
 * A real run whose component fails: the failure names the component (not a task) and shows the end
 * of its output, and nothing of the run is left. Airflow 3.3.2: the scheduler killed once the DAG
 * is triggered. Airflow 2.11.2: a DAG file the scheduler cannot import (an edit of the user's,
 * which the tool keeps): its import error, from Airflow's own record of it.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { cleanup, freePort, runCli, workspace, type Workspace } from '../support/sandbox.js';
import { airflowProcessesUnder, listeningPorts, portsOfRun, runCliWatching } from '../support/airflow-run.js';

const BIN = serverBinary();
const VENV = { '3': join(ROOT, '.venvs', 'airflow3', 'bin'), '2': join(ROOT, '.venvs', 'airflow2', 'bin') } as const;
const spaces: Workspace[] = [];
afterEach(() => {
  for (const w of spaces.splice(0)) {
    for (const p of airflowProcessesUnder(w.root))
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    cleanup(w);
  }
});

function ws(major: '3' | '2'): Workspace {
  const w = workspace(BIN);
  w.env.PATH = `${VENV[major]}${delimiter}${w.env.PATH}`;
  spaces.push(w);
  return w;
}

function nothingLeft(w: Workspace, out: string): void {
  expect(airflowProcessesUnder(w.root)).toEqual([]);
  const listening = listeningPorts();
  for (const p of portsOfRun(out)) expect(listening.has(p), `port ${p} still listening`).toBe(false);
}

describe.skipIf(missing('server binary', BIN) ?? missing('Airflow 3 venv', join(VENV['3'], 'airflow')))(
  'a component that dies (Airflow 3)',
  () => {
    it('the scheduler killed mid-run: named, the end of its output shown, the rest stopped', async () => {
      const w = ws('3');
      let killed = false;
      const run = await runCliWatching(
        w,
        ['--yes', '--check', 'run', '--address', `127.0.0.1:${await freePort()}`],
        (line) => {
          if (killed || !line.includes('triggered example_secrets_dag')) return;
          killed = true;
          const state = JSON.parse(readFileSync(join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json'), 'utf8')) as {
            airflowRun: { components: { name: string; pid: number }[] };
          };
          const scheduler = state.airflowRun.components.find((c) => c.name === 'scheduler');
          if (scheduler) process.kill(scheduler.pid, 'SIGKILL');
        },
        { timeoutMs: scaled(240_000) },
      );
      const out = run.stdout + run.stderr;
      expect(killed, out).toBe(true);
      expect(run.code, out).toBe(1);
      expect(run.stderr).toContain(
        '✖ check run: the scheduler was killed by SIGKILL during the run; the end of its output:',
      );
      expect(run.stderr).toMatch(/fix: see .*components\/scheduler\.log/);
      nothingLeft(w, out);
      expect((await runCli(w, ['down'])).code).toBe(0);
    });
  },
);

describe.skipIf(missing('server binary', BIN) ?? missing('Airflow 2.11 venv', join(VENV['2'], 'airflow')))(
  'a DAG the scheduler cannot import (Airflow 2.11)',
  () => {
    it('names the component and the import error, and starts nothing it leaves behind', async () => {
      const w = ws('2');
      const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`];
      expect((await runCli(w, [...args, '--check', 'vault'])).code).toBe(0);
      appendFileSync(join(w.cwd, 'secrets-sandbox', 'dags', 'example_secrets_dag.py'), '\nthis is not python(\n');
      const run = await runCli(w, [...args, '--check', 'run'], { timeoutMs: scaled(240_000) });
      const out = run.stdout + run.stderr;
      expect(run.code, out).toBe(1);
      expect(run.stderr).toMatch(
        /✖ check run: the scheduler could not import .*example_secrets_dag\.py: .*SyntaxError/,
      );
      expect(run.stderr).toContain('rerun with --force');
      nothingLeft(w, out);
      expect((await runCli(w, ['down'])).code).toBe(0);
    });
  },
);
