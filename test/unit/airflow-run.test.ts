/**
 * The parts of `--check run` that need no Airflow: the component plan and environment, readiness
 * from the API server's monitor, the record in state.json, task logs in both formats, and the stop
 * rule on real processes (a fake component that forks into another process group, one that
 * ignores SIGTERM, a foreign process at a recorded pid).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test as fcTest } from '@fast-check/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { componentPlan, monitorReady, runEnv } from '../../src/airflow/run/components.js';
import { parseRunRecord, RUN_ID_ENV, type AirflowRunRecord } from '../../src/airflow/run/record.js';
import { isListening, proveComponent, stopRun } from '../../src/airflow/run/stop.js';
import { logTail, parseTaskLog, resolvedLines } from '../../src/airflow/run/task-log.js';
import { isAlive, startTicks } from '../../src/process-table.js';

describe('the components of a run', () => {
  it('Airflow 3: API server, scheduler and DAG processor; every listener on 127.0.0.1; one health URL for all', () => {
    const p = componentPlan('3', { api: 40123 });
    expect(p.components.map((c) => c.name)).toEqual(['api-server', 'scheduler', 'dag-processor']);
    expect(p.components[0]?.args).toEqual(['api-server', '--host', '127.0.0.1', '--port', '40123']);
    // No log server on the scheduler: nothing else listens.
    expect(p.components[1]?.args).toContain('--skip-serve-logs');
    expect(p.health.map((h) => h.url)).toEqual(['http://127.0.0.1:40123/api/v2/monitor/health']);
    expect(p.uiUrl).toBe('http://127.0.0.1:40123');
  });

  it('Airflow 2.11: the scheduler alone, its health server on loopback; the webserver only when asked', () => {
    const p = componentPlan('2', { schedulerHealth: 40200 });
    expect(p.components.map((c) => c.name)).toEqual(['scheduler']);
    expect(p.health.map((h) => h.url)).toEqual(['http://127.0.0.1:40200/health']);
    expect(p.uiUrl).toBeUndefined();
    const ui = componentPlan('2', { schedulerHealth: 40200, web: 40201 });
    expect(ui.components.map((c) => c.name)).toEqual(['scheduler', 'webserver']);
    expect(ui.components[1]?.args).toEqual([
      'webserver',
      '--hostname',
      '127.0.0.1',
      '--port',
      '40201',
      '--workers',
      '1',
    ]);
  });

  const opts = {
    home: '/tmp/sb/.sandbox/airflow',
    dagsFolder: '/tmp/sb/dags',
    parallelism: 2,
    marks: { [RUN_ID_ENV]: 'abc123abc123' },
  };

  it("the environment: the user's and the .env's, with a private home, config file and database on top", () => {
    const user = {
      PATH: '/bin',
      AIRFLOW__SECRETS__BACKEND: 'x.VaultBackend',
      AIRFLOW__WORKERS__SECRETS_BACKEND: 'y.Backend',
      AIRFLOW_CONFIG: '/home/u/airflow/airflow.cfg',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql://prod/airflow',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD: 'cat /secret',
      AIRFLOW__CORE__SQL_ALCHEMY_CONN_SECRET: 'prod_db',
      AIRFLOW__CORE__DAGS_FOLDER: '/home/u/dags',
      AIRFLOW__CORE__EXECUTOR: 'CeleryExecutor',
    };
    const env = runEnv(user, { ...opts, major: '3', ports: { api: 40123 } });
    expect(env).toMatchObject({
      PATH: '/bin',
      AIRFLOW__SECRETS__BACKEND: 'x.VaultBackend',
      // The task side's own setting is the user's: the run must see what their tasks would.
      AIRFLOW__WORKERS__SECRETS_BACKEND: 'y.Backend',
      AIRFLOW_HOME: '/tmp/sb/.sandbox/airflow',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'sqlite:////tmp/sb/.sandbox/airflow/airflow.db',
      AIRFLOW__CORE__DAGS_FOLDER: '/tmp/sb/dags',
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__PARALLELISM: '2',
      AIRFLOW__CORE__EXECUTION_API_SERVER_URL: 'http://127.0.0.1:40123/execution/',
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      [RUN_ID_ENV]: 'abc123abc123',
    });
    for (const gone of [
      'AIRFLOW_CONFIG',
      'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD',
      'AIRFLOW__CORE__SQL_ALCHEMY_CONN_SECRET',
    ])
      expect(env).not.toHaveProperty(gone);
    const two = runEnv(user, { ...opts, major: '2', ports: { schedulerHealth: 40200 } });
    expect(two).toMatchObject({
      AIRFLOW__CORE__EXECUTOR: 'SequentialExecutor',
      AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK: 'True',
      AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST: '127.0.0.1',
      AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT: '40200',
    });
  });
});

describe("readiness from Airflow 3's monitor", () => {
  const since = Date.parse('2026-12-07T17:00:00Z');
  const body = (sched: string | null, dp: string | null, status = 'healthy') =>
    JSON.stringify({
      metadatabase: { status: 'healthy' },
      scheduler: { status, latest_scheduler_heartbeat: sched },
      triggerer: { status: null, latest_triggerer_heartbeat: null },
      dag_processor: { status, latest_dag_processor_heartbeat: dp },
    });

  it('the API server by its answer; the scheduler and DAG processor by heartbeats of this run', () => {
    expect(monitorReady(502, '', since)).toEqual([]);
    expect(monitorReady(200, 'not json', since)).toEqual(['api-server']);
    expect(monitorReady(200, body(null, null), since)).toEqual(['api-server']);
    expect(monitorReady(200, body('2026-12-07T17:00:01+00:00', '2026-12-07T17:00:02+00:00'), since)).toEqual([
      'api-server',
      'scheduler',
      'dag-processor',
    ]);
    expect(monitorReady(200, body('2026-12-07T17:00:01+00:00', null, 'unhealthy'), since)).toEqual(['api-server']);
  });

  fcTest.prop([fc.integer({ min: -600_000, max: 600_000 }), fc.integer({ min: -600_000, max: 600_000 })])(
    "a heartbeat older than the run's start is a previous run's",
    (ds, dd) => {
      const iso = (d: number) => new Date(since + d).toISOString();
      const ready = monitorReady(200, body(iso(ds), iso(dd)), since);
      expect(ready.includes('scheduler')).toBe(ds >= 0);
      expect(ready.includes('dag-processor')).toBe(dd >= 0);
    },
  );
});

describe('the record in state.json', () => {
  const rec: AirflowRunRecord = {
    runId: 'a1b2c3d4e5f6a1b2c3d4e5f6',
    major: '3',
    airflowBin: '/v/bin/airflow',
    home: '/sb/.sandbox/airflow',
    startedAt: '2026-12-07T17:00:00.000Z',
    kept: true,
    ui: { url: 'http://127.0.0.1:40123', signIn: 'sign in with ...' },
    components: [
      { name: 'api-server', pid: 1234, port: 40123, startTicks: 99 },
      { name: 'scheduler', pid: 1235 },
    ],
  };

  it('reads back what was written', () => {
    expect(parseRunRecord(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
  });

  it.each([
    ['no run id', { ...rec, runId: undefined }],
    ['a run id that is not ours', { ...rec, runId: '../../x' }],
    ['an unknown component', { ...rec, components: [{ name: 'triggerer', pid: 5 }] }],
    ['pid 1', { ...rec, components: [{ name: 'scheduler', pid: 1 }] }],
    ['a pid that is not a number', { ...rec, components: [{ name: 'scheduler', pid: '7' }] }],
    ['Airflow 1.10', { ...rec, major: '1.10' }],
  ])('refuses a record with %s (nothing is signalled for it)', (_, bad) => {
    expect(parseRunRecord(bad)).toBeUndefined();
  });
});

describe('task logs', () => {
  // Lines as Airflow 3.3.2 and 2.11.2 wrote them in a real run of the example DAG.
  const v3 = [
    '{"timestamp":"2026-12-07T17:37:05.842168Z","level":"info","event":"::group::Pre Execute","logger":"task"}',
    `{"timestamp":"2026-12-07T17:37:19.715992Z","level":"info","event":"Resolved 'smtp_default' from VaultBackend: conn_type='smtps' host='relay.example.com' port=465 login='user' schema='' password=set extra_keys=[]","logger":"task.stdout"}`,
    '{"timestamp":"2026-12-07T17:37:19.704052Z","level":"info","event":"Done. Returned value was: None","logger":"airflow.task.operators"}',
  ].join('\n');
  const v2 = [
    "[2026-12-07T17:40:00.383+0000] {base.py:84} INFO - Retrieving connection 'smtp_default'",
    "[2026-12-07T17:40:00.384+0000] {logging_mixin.py:190} INFO - Resolved 'smtp_default' from VaultBackend: conn_type='smtps' ***='relay.example.com' port=465 login='user' schema='' password=set extra_keys=[]",
    '[2026-12-07T17:40:00.384+0000] {python.py:240} INFO - Done. Returned value was: None',
  ].join('\n');

  it('finds the resolved lines in both formats', () => {
    expect(resolvedLines(parseTaskLog(v3))).toEqual([
      "Resolved 'smtp_default' from VaultBackend: conn_type='smtps' host='relay.example.com' port=465 login='user' schema='' password=set extra_keys=[]",
    ]);
    expect(resolvedLines(parseTaskLog(v2))).toHaveLength(1);
    expect(resolvedLines(parseTaskLog(v2))[0]).toContain('password=set');
  });

  it("a failed task's tail: Airflow 3's error_detail and a 2.x traceback's last line", () => {
    const failed3 = [
      '{"level":"info","event":"::group::Pre Execute"}',
      '{"level":"error","event":"Task failed with exception","error_detail":[{"exc_type":"RuntimeError","exc_value":"\'x\' was answered by ExecutionAPISecretsBackend, not by Vault"}]}',
    ].join('\n');
    expect(logTail(parseTaskLog(failed3))).toEqual([
      'ERROR Task failed with exception',
      "ERROR RuntimeError: 'x' was answered by ExecutionAPISecretsBackend, not by Vault",
    ]);
    const failed2 = [
      '[t] {taskinstance.py:1} ERROR - Task failed with exception',
      'Traceback (most recent call last):',
      '  File "x.py", line 1, in <module>',
      "airflow.exceptions.AirflowNotFoundException: The conn_id `x` isn't defined",
    ].join('\n');
    expect(logTail(parseTaskLog(failed2))).toEqual([
      "ERROR Task failed with exception … airflow.exceptions.AirflowNotFoundException: The conn_id `x` isn't defined",
    ]);
  });
});

describe('stopping a run: only what is proven ours, all of it', () => {
  const dirs: string[] = [];
  const pids: number[] = [];
  afterEach(() => {
    for (const p of pids.splice(0))
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A stand-in component: a node process whose command line names airflow, in its own group, that forks a
   * child into a group of its own (as the supervisor puts a task), optionally ignoring SIGTERM. */
  function fakeComponent(home: string, runId: string, opts: { stubborn?: boolean; listen?: boolean } = {}) {
    const script = join(home, 'airflow-fake.js');
    writeFileSync(
      script,
      `const { spawn } = require('node:child_process');
       const net = require('node:net');
       ${opts.stubborn ? "process.on('SIGTERM', () => {});" : ''}
       if (process.argv[2] !== 'child') {
         const c = spawn(process.execPath, [__filename, 'child'], { detached: true, stdio: 'ignore' });
         process.stdout.write(String(c.pid) + '\\n');
         ${opts.listen ? "net.createServer().listen(0, '127.0.0.1', function () { process.stdout.write('port ' + this.address().port + '\\n'); });" : ''}
       }
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, [script], {
      cwd: home,
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, [RUN_ID_ENV]: runId },
    });
    child.unref();
    const pid = child.pid ?? -1;
    pids.push(pid);
    return new Promise<{ pid: number; grandchild: number; port?: number }>((resolve) => {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
        const lines = out.split('\n').filter(Boolean);
        const port = lines.find((l) => l.startsWith('port '));
        if (lines.length && (!opts.listen || port)) {
          const grandchild = Number(lines[0]);
          pids.push(grandchild);
          resolve({ pid, grandchild, ...(port ? { port: Number(port.slice(5)) } : {}) });
        }
      });
    });
  }

  function record(home: string, runId: string, components: AirflowRunRecord['components']): AirflowRunRecord {
    return { runId, major: '3', airflowBin: 'airflow', home, startedAt: '', kept: false, components };
  }

  it('stops a component, the child it put in another process group, and closes its port', async () => {
    const home = mkdtempSync(join(tmpdir(), 'css-run-'));
    dirs.push(home);
    const runId = 'aaaabbbbccccdddd';
    const c = await fakeComponent(home, runId, { listen: true });
    expect(await isListening(c.port ?? 0)).toBe(true);
    const rec = record(home, runId, [
      { name: 'scheduler', pid: c.pid, port: c.port, startTicks: startTicks(c.pid) ?? undefined },
    ]);
    const r = await stopRun(rec, { graceMs: 5_000 });
    expect(r).toMatchObject({ stopped: ['scheduler'], left: [], refused: [], listening: [] });
    expect(isAlive(c.pid)).toBe(false);
    expect(isAlive(c.grandchild)).toBe(false);
  });

  it('finds a component whose pid the record lost (the CLI killed between the spawn and the record)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'css-run-'));
    dirs.push(home);
    const runId = '9999aaaa9999aaaa';
    const c = await fakeComponent(home, runId);
    const r = await stopRun(record(home, runId, []), { graceMs: 5_000 });
    expect(r.left).toEqual([]);
    expect(isAlive(c.pid)).toBe(false);
    expect(isAlive(c.grandchild)).toBe(false);
  });

  it('SIGKILL after the grace period for a component that ignores SIGTERM', async () => {
    const home = mkdtempSync(join(tmpdir(), 'css-run-'));
    dirs.push(home);
    const runId = 'eeeeffff00001111';
    const c = await fakeComponent(home, runId, { stubborn: true });
    const r = await stopRun(record(home, runId, [{ name: 'dag-processor', pid: c.pid }]), { graceMs: 300 });
    expect(r.stopped).toEqual(['dag-processor']);
    expect(isAlive(c.pid)).toBe(false);
    expect(isAlive(c.grandchild)).toBe(false);
  });

  it("leaves alone an airflow process of another run at a recorded pid, and a recycled pid's new owner", async () => {
    const ours = mkdtempSync(join(tmpdir(), 'css-run-'));
    const theirs = mkdtempSync(join(tmpdir(), 'css-run-'));
    dirs.push(ours, theirs);
    mkdirSync(join(theirs, 'x'));
    const foreign = await fakeComponent(join(theirs, 'x'), 'ffffffffffffffff');
    const api = { name: 'api-server' as const, pid: foreign.pid };
    const rec = record(ours, '1234123412341234', [api]);
    expect(proveComponent(api, rec).ours).toBe(false);
    const r = await stopRun(rec, { graceMs: 300 });
    expect(r.refused.map((x) => x.pid)).toEqual([foreign.pid]);
    expect(isAlive(foreign.pid)).toBe(true);
    expect(isAlive(foreign.grandchild)).toBe(true);
    // The same pid, recorded with another start time: a process that started later is not the one spawned.
    const later = { name: 'api-server' as const, pid: foreign.pid, startTicks: (startTicks(foreign.pid) ?? 0) - 1 };
    expect(proveComponent(later, record(theirs, 'ffffffffffffffff', [later]))).toMatchObject({ ours: false });
  });

  it('says which port still listens when something else holds it', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as { port: number }).port;
    const r = await stopRun(record('/nonexistent', '5555666677778888', [{ name: 'api-server', pid: 999_999, port }]));
    expect(r).toMatchObject({ gone: ['api-server'], listening: [port] });
    s.close();
  });
});
