/**
 * The class of task-side set-ups on real Airflow 3.3.2, each judged by Airflow itself: an oracle
 * (test/support/task_chain.py) builds the chain a task process builds and asks it, and doctor's
 * verdict and its task-side check must agree with it. The cases come from the rule in Airflow
 * 3.3.2's `_get_custom_secret_backend(worker_mode=True)` (airflow/_shared/configuration/parser.py):
 * the [workers] class decides; without it the kwargs are ignored and [secrets] is used with its own
 * kwargs; per-key AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__* lie over the JSON; the options may
 * come from the environment or airflow.cfg; a class that cannot be built fails every task lookup.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { cleanup, freePort, readJson, runCli, runProcess, workspace, type Workspace } from '../support/sandbox.js';
import { parseEnvFile } from '../../src/airflow/backend/index.js';

const BIN = serverBinary();
const AIRFLOW = join(ROOT, '.venvs', 'airflow3', 'bin');
const VAULT = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW, 'airflow'));

interface Case {
  name: string;
  env: (url: string) => Record<string, string>;
  /** [workers] lines for an airflow.cfg of its own. */
  cfg?: (url: string) => string;
  /** What the source says a task's own lookup does: resolve from Vault, or not. */
  taskReadsVault: boolean;
}

const wrong = (url: string) => JSON.stringify({ url, token: 's.NotTheSandboxToken0000', mount_point: 'secret' });
const right = (url: string) => JSON.stringify({ url, mount_point: 'secret', connections_path: 'connections' });

const CASES: Case[] = [
  {
    name: 'only the kwargs (ignored: no [workers] class)',
    env: (u) => ({ AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS: wrong(u) }),
    taskReadsVault: true,
  },
  {
    name: 'the class with a wrong token in the kwargs',
    env: (u) => ({ AIRFLOW__WORKERS__SECRETS_BACKEND: VAULT, AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS: wrong(u) }),
    taskReadsVault: false,
  },
  {
    // VaultBackend() with no kwargs: hvac takes VAULT_ADDR, the provider VAULT_TOKEN, both in .env.
    name: 'the class without kwargs',
    env: () => ({ AIRFLOW__WORKERS__SECRETS_BACKEND: VAULT }),
    taskReadsVault: true,
  },
  {
    name: 'right kwargs, a wrong per-key token over them',
    env: (u) => ({
      AIRFLOW__WORKERS__SECRETS_BACKEND: VAULT,
      AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS: right(u),
      AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__TOKEN: 's.NotTheSandboxToken0000',
    }),
    taskReadsVault: false,
  },
  {
    name: 'a class a task cannot import',
    env: () => ({ AIRFLOW__WORKERS__SECRETS_BACKEND: 'no_such_module.Backend' }),
    taskReadsVault: false,
  },
  {
    name: 'another backend class (environment variables)',
    env: () => ({
      AIRFLOW__WORKERS__SECRETS_BACKEND: 'airflow.secrets.environment_variables.EnvironmentVariablesBackend',
    }),
    taskReadsVault: false,
  },
  {
    name: '[workers] in airflow.cfg with a wrong token',
    env: () => ({}),
    cfg: (u) => `[workers]\nsecrets_backend = ${VAULT}\nsecrets_backend_kwargs = ${wrong(u)}\n`,
    taskReadsVault: false,
  },
];

interface DoctorJson {
  checks: { id: string; status: string; detail: string }[];
}

describe.skipIf(skipReason)("the task side's settings, judged by Airflow 3", () => {
  let w: Workspace;
  let dotenv: Map<string, string>;
  beforeAll(async () => {
    w = workspace(BIN);
    w.env.PATH = `${AIRFLOW}${delimiter}${w.env.PATH}`;
    expect((await runCli(w, ['--yes', '--check', 'vault', '--address', `127.0.0.1:${await freePort()}`])).code).toBe(0);
    dotenv = parseEnvFile(readFileSync(join(w.cwd, 'secrets-sandbox', '.env'), 'utf8'));
  });
  afterAll(async () => {
    await runCli(w, ['down']);
    expect(cleanup(w)).toEqual([]);
  });

  it.each(CASES)('$name: doctor agrees with a task', async (c) => {
    const url = dotenv.get('VAULT_ADDR') ?? '';
    const extra = c.env(url);
    if (c.cfg) {
      const home = join(w.root, 'af-home');
      mkdirSync(home, { recursive: true });
      writeFileSync(join(home, 'airflow.cfg'), c.cfg(url));
      extra.AIRFLOW_HOME = home;
    }
    // The oracle gets what Airflow gets: the shell's env, the sandbox .env, the case; doctor's private home otherwise.
    const home = extra.AIRFLOW_HOME ?? join(w.cwd, 'secrets-sandbox', '.sandbox', 'airflow');
    const oracleEnv = { ...w.env, ...Object.fromEntries(dotenv), AIRFLOW_HOME: home, ...extra };
    const o = await runProcess(
      join(AIRFLOW, 'python'),
      [join(ROOT, 'test', 'support', 'task_chain.py'), 'smtp_default'],
      {
        env: oracleEnv,
        timeoutMs: scaled(60_000),
      },
    );
    const line = o.stdout.split('\n').find((l) => l.startsWith('__ORACLE__'));
    expect(line, o.stderr.slice(-1500)).toBeDefined();
    const oracle = JSON.parse((line ?? '').slice('__ORACLE__'.length)) as {
      chain: { name: string; found: boolean }[];
      error: string | null;
    };
    const first = oracle.chain.find((b) => b.found);
    const taskReadsVault = !oracle.error && first?.name === 'VaultBackend';
    // The source and Airflow agree on the case (otherwise the case is not the one named).
    expect(taskReadsVault, JSON.stringify(oracle)).toBe(c.taskReadsVault);

    const d = await runCli(w, ['doctor', '--json'], { env: extra, timeoutMs: scaled(60_000) });
    const checks = readJson<DoctorJson>(d.stdout).checks;
    const verdict = checks.find((x) => x.id === 'airflow-verdict');
    const workers = checks.find((x) => x.id === 'workers');
    expect(verdict?.status === 'fail', verdict?.detail).toBe(!taskReadsVault);
    expect(workers?.status === 'fail', workers?.detail).toBe(!taskReadsVault);
    expect(d.code).toBe(taskReadsVault ? 0 : 1);
    expect(d.stdout).not.toContain('NotTheSandboxToken');
  });
});
