/**
 * `--check run` on real Airflow 2.11.2: the scheduler (SequentialExecutor, the one SQLite allows; it parses DAGs itself)
 * runs example_secrets_dag for two seeded connections; the output shows each task's states
 * as they change and, for each connection, the line its task logged when it resolved it from Vault
 * (password only as set); afterwards no Airflow process of the sandbox is left and nothing listens
 * on the ports the run used.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { cleanup, freePort, readJson, runCli, workspace, type Workspace } from '../support/sandbox.js';
import { airflowProcessesUnder, listeningPorts, portsOfRun, TASK_ORDER, taskStates } from '../support/airflow-run.js';
import { delimiter } from 'node:path';

const BIN = serverBinary();
const AIRFLOW = join(ROOT, '.venvs', 'airflow2', 'bin');
const spaces: Workspace[] = [];
afterEach(() => {
  for (const w of spaces.splice(0)) expect(cleanup(w), 'a server process was left running').toEqual([]);
});

const skipReason = missing('server binary', BIN) ?? missing('Airflow 2.11 venv', join(AIRFLOW, 'airflow'));

describe.skipIf(skipReason)('--check run on Airflow 2.11', () => {
  it('runs the DAG through the components, shows each connection from its task log, and leaves nothing running', async () => {
    const w = workspace(BIN);
    w.env.PATH = `${AIRFLOW}${delimiter}${w.env.PATH}`;
    spaces.push(w);
    const run = await runCli(
      w,
      [
        '--yes',
        '--check',
        'run',
        '--address',
        `127.0.0.1:${await freePort()}`,
        '--conn',
        'smtp_default=smtps://user:s3cr3t-pass@relay.example.com:465',
        '--conn',
        'my.pg=postgres://u:p%40ss-word-1@db.example.com:5432/app',
      ],
      { timeoutMs: scaled(240_000) },
    );
    const out = run.stdout + run.stderr;
    expect(run.code, out).toBe(0);
    // Each task's state as it changed, in plain output: in Airflow's order, ending at success (a state
    // shorter than one poll of the run may not show, so not every state is required).
    for (const task of ['check_smtp_default', 'check_my.pg']) {
      const seen = taskStates(out, task);
      expect(seen.at(-1), `${task}: ${seen.join(' -> ')}`).toBe('success');
      expect(seen.length, `${task}: ${seen.join(' -> ')}`).toBeGreaterThan(1);
      const order = seen.map((st) => TASK_ORDER.indexOf(st));
      expect(order, `${task}: ${seen.join(' -> ')}`).toEqual([...order].sort((a, b) => a - b));
      expect(order).not.toContain(-1);
    }
    // Each seeded connection, from its task's log, resolved by VaultBackend in the task.
    expect(out).toContain(
      "smtp_default, from the log of task check_smtp_default: Resolved 'smtp_default' from VaultBackend: conn_type='smtps' host='relay.example.com' port=465 login='user'",
    );
    expect(out).toContain(
      "my.pg, from the log of task check_my.pg: Resolved 'my.pg' from VaultBackend: conn_type='postgres' host='db.example.com' port=5432 login='u' schema='app' password=set",
    );
    expect(out).not.toContain('s3cr3t-pass');
    expect(out).not.toContain('p@ss-word-1');
    expect(out).toMatch(/stopped the Airflow this run started \(scheduler\)/);

    // Nothing of the run is left: no process, no listener.
    expect(airflowProcessesUnder(w.root)).toEqual([]);
    const ports = portsOfRun(out);
    expect(ports.length).toBe(1);
    const listening = listeningPorts();
    for (const p of ports) expect(listening.has(p), `port ${p} still listening`).toBe(false);
    const state = readJson<{ airflowRun?: unknown }>(
      (await import('node:fs')).readFileSync(join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json'), 'utf8'),
    );
    expect(state.airflowRun).toBeUndefined();
    expect((await runCli(w, ['down'])).code).toBe(0);
  });
});
