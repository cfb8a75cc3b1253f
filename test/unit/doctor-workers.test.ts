/**
 * doctor's view of Airflow 3's task side, on probe reports shaped as the real probe returns them
 * (test/e2e/workers.airflow.test.ts holds the probe itself to real Airflow 3.3.2). The class of
 * set-ups, from `_get_custom_secret_backend(worker_mode=True)` in Airflow 3.3.2's shared parser:
 * no [workers] option; only the kwargs (ignored: the class falls back to [secrets] with its kwargs);
 * the class with kwargs that work or not; a class that cannot be built.
 */
import { describe, expect, it } from 'vitest';
import { readBackendSettings } from '../../src/airflow/backend/index.js';
import type { ConfigEntry, ProbeReport, WorkerView } from '../../src/airflow/probe.js';
import { examine } from '../../src/doctor/index.js';
import type { CheckInput, DoctorContext } from '../../src/doctor/types.js';
import { airflowVerdict } from '../../src/doctor/verdict.js';
import { kwargsDifference, workers } from '../../src/doctor/workers.js';

const VAULT = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
const unset: ConfigEntry = { source: 'default', value: '' };
const fromEnv = (name: string, value: string): ConfigEntry => ({ source: 'environment', name, value });
const found = { name: 'VaultBackend', found: true, error: null, logs: [], requests: [] };
const forbidden = {
  name: 'VaultBackend',
  found: false,
  logs: [],
  requests: [],
  error: [
    { type: 'hvac.exceptions.VaultError', name: 'VaultError', message: 'Vault Authentication Error!, on None None' },
    { type: 'hvac.exceptions.Forbidden', name: 'Forbidden', message: 'permission denied', status: 403 },
  ],
};

function report(w?: Partial<WorkerView>): ProbeReport {
  return {
    timings: {},
    wallSeconds: 1,
    init_error: null,
    config: {},
    backends: [{ class: VAULT, name: 'VaultBackend' }],
    connections: { smtp_default: { found: true, error: null, logs: [], backends: [found] } },
    variables: {},
    ...(w
      ? {
          workers: {
            config: { secrets_backend: unset, secrets_backend_kwargs: unset },
            per_key_kwargs: [],
            section: 'workers',
            backend: { class: VAULT, name: 'VaultBackend' },
            init_error: null,
            connections: { smtp_default: found },
            variables: {},
            ...w,
          },
        }
      : {}),
  };
}

const SERVER_KWARGS = { url: 'http://127.0.0.1:8200', token: 's.good', mount_point: 'secret' };

/** The check's input for `env` (what the shell and .env hold), read by the one reader for both sides. */
async function input(p: ProbeReport, env: Record<string, string> = {}): Promise<CheckInput> {
  const all = new Map(
    Object.entries({
      HOME: '/nonexistent',
      AIRFLOW_HOME: '/nonexistent/airflow',
      AIRFLOW__SECRETS__BACKEND: VAULT,
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify(SERVER_KWARGS),
      ...env,
    }),
  );
  const user = { env: all, fromEnvFile: new Set<string>(), unsetByEnvFile: new Set<string>() };
  const server = await readBackendSettings(user, { version: '3.3.2' });
  const worker = await readBackendSettings(user, { version: '3.3.2', side: 'worker' });
  return {
    env: all,
    envFileKeys: new Set(),
    envSource: '/sb/.env',
    processEnv: Object.fromEntries(all),
    home: '/nonexistent',
    kwargsSource: 'AIRFLOW__SECRETS__BACKEND_KWARGS in /sb/.env',
    backendSource: 'AIRFLOW__SECRETS__BACKEND in /sb/.env',
    backendClass: VAULT,
    kwargs: server.kwargs,
    backend: server,
    workerBackend: worker,
    airflow: { bin: 'airflow', python: 'python', version: '3.3.2', provider: '4.8.4', hvac: '2.4.0', major: '3' },
    probe: p,
  } as CheckInput;
}

const WORKER_KWARGS = '{"url": "http://127.0.0.1:8200", "token": "s.bad", "mount_point": "secret"}';
const workersEnv = {
  AIRFLOW__WORKERS__SECRETS_BACKEND: VAULT,
  AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS: WORKER_KWARGS,
};
const workersSet = {
  secrets_backend: fromEnv('AIRFLOW__WORKERS__SECRETS_BACKEND', VAULT),
  secrets_backend_kwargs: fromEnv('AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS', WORKER_KWARGS),
};

describe("doctor's task-side check on Airflow 3", () => {
  it('no [workers] option: tasks use [secrets], as the server side does', async () => {
    expect(await workers.run(await input(report()))).toMatchObject({ status: 'ok' });
  });

  it('a [workers] backend that misses: fail, naming the setting, its source, the differing kwarg and the fix', async () => {
    const p = report({ config: workersSet, connections: { smtp_default: forbidden } });
    const r = await workers.run(await input(p, workersEnv));
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('AIRFLOW__WORKERS__SECRETS_BACKEND from your shell');
    expect(r.detail).toContain('differ from [secrets] backend_kwargs in token');
    expect(r.detail).toContain('smtp_default: Forbidden (HTTP 403)');
    expect(r.detail).not.toContain('s.bad');
    expect(r.fix).toContain('unset AIRFLOW__WORKERS__SECRETS_BACKEND AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS');
  });

  it('a [workers] backend that resolves every id: ok, and still names the difference', async () => {
    const r = await workers.run(await input(report({ config: workersSet }), workersEnv));
    expect(r.status).toBe('ok');
    expect(r.detail).toContain('differ from [secrets] backend_kwargs in token');
  });

  it('only the kwargs set: ignored by Airflow (the class falls back to [secrets] with its kwargs)', async () => {
    const p = report({
      section: 'secrets',
      config: { secrets_backend: unset, secrets_backend_kwargs: workersSet.secrets_backend_kwargs },
    });
    const r = await workers.run(await input(p, { AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS: WORKER_KWARGS }));
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('is ignored');
  });

  it('a class a task cannot build: fail, every lookup skips it', async () => {
    const p = report({
      config: { ...workersSet, secrets_backend: fromEnv('AIRFLOW__WORKERS__SECRETS_BACKEND', 'no.such.Backend') },
      backend: null,
      init_error: { chain: [{ type: 'builtins.ImportError', name: 'ImportError', message: "No module named 'no'" }] },
      connections: {},
    });
    const r = await workers.run(
      await input(p, { ...workersEnv, AIRFLOW__WORKERS__SECRETS_BACKEND: 'no.such.Backend' }),
    );
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('cannot build its backend');
    expect(r.detail).toContain('not airflow.providers.hashicorp.secrets.vault.VaultBackend');
  });

  it("makes Airflow's verdict fail when the server side resolves and the task side does not", async () => {
    const bad = await input(report({ config: workersSet, connections: { smtp_default: forbidden } }), workersEnv);
    expect(await airflowVerdict.run(bad)).toMatchObject({ status: 'fail' });
    expect(await airflowVerdict.run(await input(report({ config: workersSet }), workersEnv))).toMatchObject({
      status: 'ok',
    });
    // The verdict names the task-side check as the broken link.
    const { results } = await examine(bad as DoctorContext, [airflowVerdict, workers]);
    expect(results.find((x) => x.id === 'airflow-verdict')).toMatchObject({ status: 'fail', explainedBy: 'workers' });
  });

  it('without Airflow to ask: the setting and its source named, the verdict left to Airflow (a warning)', async () => {
    const base = await input(report(), workersEnv);
    const r = await workers.run({
      ...base,
      airflow: null,
      probe: undefined,
      intendedAirflow: { major: '3', source: 'x' },
    });
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('AIRFLOW__WORKERS__SECRETS_BACKEND from your shell');
    expect(r.detail).toContain('only Airflow can say');
  });

  it('Airflow 2 has no task side of its own: a [workers] variable changes nothing', async () => {
    const base = await input(report(), { AIRFLOW__WORKERS__SECRETS_BACKEND: 'x' });
    const r = await workers.run({ ...base, airflow: { ...base.airflow, major: '2', version: '2.11.2' } } as CheckInput);
    expect(r.status).toBe('ok');
  });
});

describe('kwargsDifference', () => {
  it('names keys only, never values', () => {
    expect(
      kwargsDifference({ token: 'a', url: 'u', mount_point: 'secret' }, { token: 'b', url: 'u', role_id: 'r' }),
    ).toBe('differ from [secrets] backend_kwargs in token and lack mount_point and add role_id');
    expect(kwargsDifference({ a: 1 }, { a: 1 })).toBe('');
  });
});
