/**
 * A set-up whose task side differs from its server side on real Airflow 3.3.2:
 * AIRFLOW__WORKERS__SECRETS_BACKEND and _KWARGS give tasks a VaultBackend with another token. The
 * server side (`airflow connections get`, the probe of old) resolves every connection, so nothing
 * showed it; now `--check run` and `--check dag` fail naming it, doctor names it, and the example
 * DAG itself fails in a real task (the API server answered, not the task's own Vault lookup).
 */
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { cleanup, freePort, runCli, runProcess, workspace, type Workspace } from '../support/sandbox.js';
import { airflowProcessesUnder } from '../support/airflow-run.js';
import { parseEnvFile } from '../../src/airflow/backend/index.js';

const BIN = serverBinary();
const AIRFLOW = join(ROOT, '.venvs', 'airflow3', 'bin');
const spaces: Workspace[] = [];
afterEach(() => {
  for (const w of spaces.splice(0)) expect(cleanup(w), 'a server process was left running').toEqual([]);
});

const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW, 'airflow'));
const VAULT = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';

describe.skipIf(skipReason)('the task side differs from the server side (Airflow 3)', () => {
  it('fails --check run and --check dag, doctor names it, and the DAG fails in a real task', async () => {
    const w = workspace(BIN);
    w.env.PATH = `${AIRFLOW}${delimiter}${w.env.PATH}`;
    spaces.push(w);
    const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`];
    expect((await runCli(w, [...args, '--check', 'vault'])).code).toBe(0);
    const sandbox = join(w.cwd, 'secrets-sandbox');
    const dotenv = parseEnvFile(readFileSync(join(sandbox, '.env'), 'utf8'));
    const url = dotenv.get('VAULT_ADDR') ?? '';
    const workers = {
      AIRFLOW__WORKERS__SECRETS_BACKEND: VAULT,
      AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS: JSON.stringify({
        url,
        token: 's.NotTheSandboxToken0000',
        mount_point: 'secret',
      }),
    };

    // Without the [workers] setting the same sandbox passes doctor: the difference is what fails.
    expect((await runCli(w, ['doctor'])).code).toBe(0);
    const doctor = await runCli(w, ['doctor'], { env: workers });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(1);
    expect(doctor.stdout).toMatch(/\[✗\] The task side's backend \(\[workers\], Airflow 3\)/);
    expect(doctor.stdout).toContain('AIRFLOW__WORKERS__SECRETS_BACKEND from your shell');
    expect(doctor.stdout).toContain('differ from [secrets] backend_kwargs in token');
    expect(doctor.stdout).toContain('smtp_default: Forbidden (HTTP 403)');
    expect(doctor.stdout).not.toContain('NotTheSandboxToken');

    for (const level of ['run', 'dag']) {
      const r = await runCli(w, [...args, '--check', level], { env: workers, timeoutMs: scaled(180_000) });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain("a task would not resolve 'smtp_default'");
      expect(r.stderr).toContain('[workers] secrets_backend');
      expect(r.stderr).toContain('unset AIRFLOW__WORKERS__SECRETS_BACKEND AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS');
      expect(airflowProcessesUnder(w.root)).toEqual([]);
    }

    // The DAG as a user runs it by hand: its task asks the task side's chain and fails naming who answered.
    const home = join(sandbox, '.sandbox', 'airflow');
    const env = {
      ...w.env,
      ...Object.fromEntries(dotenv),
      ...workers,
      AIRFLOW_HOME: home,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      // Airflow prints the traceback through rich: wide enough that the message is not cut.
      COLUMNS: '2000',
    };
    const airflow = join(AIRFLOW, 'airflow');
    for (const step of [
      ['db', 'migrate'],
      ['dags', 'reserialize'],
    ])
      expect((await runProcess(airflow, step, { env, timeoutMs: scaled(180_000) })).code).toBe(0);
    const t = await runProcess(airflow, ['dags', 'test', 'example_secrets_dag'], { env, timeoutMs: scaled(180_000) });
    expect(t.code).not.toBe(0);
    // Without rich's colour codes, for the assertion.
    const said = (t.stdout + t.stderr).replace(/\x1b\[[0-9;]*m/g, '');
    expect(said).toContain("'smtp_default' was answered by ExecutionAPISecretsBackend, not by Vault");
    expect(said).toContain('VaultBackend raised');
    expect(said).not.toContain("Resolved 'smtp_default'");
    expect((await runCli(w, ['down'])).code).toBe(0);
  });
});
