/**
 * A real run that fails, on Airflow 3.3.2: the Vault server dies once the DAG is triggered (the
 * probe before it passed), so each task's lookup fails. The CLI exits 1 naming the task that
 * failed, shows the end of its log, and gives doctor's explanation (the server does not answer)
 * with its fix; every process of the run is stopped and nothing of it listens.
 */
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { cleanup, freePort, workspace, type Workspace } from '../support/sandbox.js';
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
    cleanup(w);
  }
});

const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW, 'airflow'));

describe.skipIf(skipReason)('a failed --check run on Airflow 3', () => {
  it("names the failed task, shows the end of its log and doctor's explanation, and stops everything", async () => {
    const w = workspace(BIN);
    w.env.PATH = `${AIRFLOW}${delimiter}${w.env.PATH}`;
    spaces.push(w);
    const port = await freePort();
    let killed = false;
    const run = await runCliWatching(
      w,
      ['--yes', '--check', 'run', '--address', `127.0.0.1:${port}`],
      (line) => {
        if (killed || !line.includes('triggered example_secrets_dag')) return;
        killed = true;
        const state = JSON.parse(readFileSync(join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json'), 'utf8')) as {
          server: { pid: number };
        };
        process.kill(state.server.pid, 'SIGKILL');
      },
      { timeoutMs: scaled(300_000) },
    );
    const out = run.stdout + run.stderr;
    expect(killed, out).toBe(true);
    expect(run.code, out).toBe(1);
    expect(run.stderr).toContain('✖ check run: task check_smtp_default ended failed');
    expect(run.stderr).toMatch(/the end of its log \(.*attempt=1\.log\):/);
    expect(run.stderr).toMatch(/AirflowNotFoundException|isn't defined/);
    // doctor's explanation: the server at the sandbox's address does not answer; the fix restarts it.
    expect(run.stderr).toContain('doctor:');
    expect(run.stderr).toContain(`127.0.0.1:${port}`);
    expect(run.stderr).toMatch(/fix: .*\bup\b/);
    expect(out).toMatch(/stopped the Airflow this run started \(API server, scheduler, dag-processor\)/);
    expect(airflowProcessesUnder(w.root)).toEqual([]);
    const listening = listeningPorts();
    for (const p of portsOfRun(out)) expect(listening.has(p), `port ${p} still listening`).toBe(false);
  });
});
