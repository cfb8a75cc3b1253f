/**
 * One real run of a DAG: Airflow's database migrated in the private AIRFLOW_HOME, the components
 * started in parallel on free loopback ports (recorded the moment they are spawned), readiness by
 * their health endpoints, the driver triggering the DAG once the DAG processor has parsed it and
 * every component is healthy, each task's state reported as it changes. `stop()` ends every
 * process of the run and can be called any number of times, from anywhere (a signal handler too).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ensurePrivateDir } from '../../io/private.js';
import { startTicks } from '../../process-table.js';
import { initDb, type AirflowInstall } from '../runner.js';
import {
  COMPONENT_LABEL,
  componentPlan,
  runEnv,
  type ComponentName,
  type ComponentPlan,
  type RunPorts,
} from './components.js';
import { startDriver, type Driver, type DriverEvent, type DriverExit, type TaskEnd } from './driver.js';
import { exitedComponent, waitReady } from './health.js';
import { freeLoopbackPort } from './ports.js';
import { RUN_ID_ENV, type AirflowRunRecord } from './record.js';
import { spawnComponent, type ComponentExit, type RunningComponent } from './spawn.js';
import { stopRun, type StopResult } from './stop.js';

export interface RunRequest {
  airflow: AirflowInstall;
  /** The private AIRFLOW_HOME. */
  home: string;
  dagsFolder: string;
  dagFile: string;
  dagId: string;
  /** The user's environment with the sandbox .env applied. */
  baseEnv: NodeJS.ProcessEnv;
  /** Marks every process of the run besides the run id (the sandbox's own id). */
  marks: Record<string, string>;
  parallelism: number;
  /** Leave the components running afterwards; on Airflow 2.11 this also starts the webserver (the UI). */
  keep: boolean;
  readyTimeoutMs: number;
  runTimeoutMs: number;
}

export interface RunHooks {
  /** Writes the record into the sandbox's state (undefined: the run is gone). */
  record(rec: AirflowRunRecord | undefined): void;
  /** A line of progress, said as it happens. */
  say(line: string): void;
}

export type RunFailure =
  | { kind: 'migrate'; output: string }
  | { kind: 'component'; component: RunningComponent; exit: ComponentExit; phase: 'start' | 'run' }
  | { kind: 'not-ready'; waiting: ComponentName[]; components: RunningComponent[] }
  | { kind: 'import-error'; file: string; stacktrace: string }
  | { kind: 'driver'; exit: DriverExit }
  | { kind: 'timeout'; states: Map<string, string | null> }
  | { kind: 'tasks'; runId: string; tasks: TaskEnd[] };

export type RunOutcome =
  | { ok: true; runId: string; tasks: TaskEnd[]; record: AirflowRunRecord }
  | { ok: false; failure: RunFailure };

type Major = '2' | '3';

async function ports(major: Major, keep: boolean): Promise<RunPorts> {
  if (major === '3') return { api: await freeLoopbackPort() };
  return { schedulerHealth: await freeLoopbackPort(), ...(keep ? { web: await freeLoopbackPort() } : {}) };
}

export class AirflowRun {
  readonly runId = randomBytes(12).toString('hex');
  private record?: AirflowRunRecord;
  private running: RunningComponent[] = [];
  private driver?: Driver;
  private componentEnv: NodeJS.ProcessEnv = {};
  private stopping?: Promise<StopResult | undefined>;

  constructor(
    private readonly req: RunRequest,
    private readonly hooks: RunHooks,
  ) {}

  private get major(): Major {
    if (this.req.airflow.major === '1.10') throw new Error('a real run needs Airflow 2 or 3');
    return this.req.airflow.major;
  }

  async execute(): Promise<RunOutcome> {
    const { req, hooks } = this;
    const major = this.major;
    ensurePrivateDir(req.home);
    const outDir = join(req.home, 'components');
    ensurePrivateDir(outDir);
    const p = await ports(major, req.keep);
    const env = runEnv(req.baseEnv, {
      major,
      home: req.home,
      dagsFolder: req.dagsFolder,
      ports: p,
      parallelism: req.parallelism,
      marks: { ...req.marks, [RUN_ID_ENV]: this.runId },
    });
    this.componentEnv = env;
    hooks.say(`migrate: airflow db migrate in ${req.home}`);
    const db = await initDb(req.airflow, env);
    if (!db.ok) return { ok: false, failure: { kind: 'migrate', output: db.output } };

    const plan = componentPlan(major, p);
    const since = Date.now();
    this.record = {
      runId: this.runId,
      major,
      airflowBin: req.airflow.bin,
      home: req.home,
      startedAt: new Date(since).toISOString(),
      kept: false,
      components: [],
      ...(plan.uiUrl ? { ui: { url: plan.uiUrl, signIn: '' } } : {}),
    };
    // The intent first: a CLI killed between a spawn and the pid's record leaves processes that
    // carry the run's id and run in its home, which the record then lets `down` find (stop.ts).
    hooks.record(this.record);
    for (const spec of plan.components) {
      const c = spawnComponent(req.airflow.bin, spec, env, req.home, join(outDir, `${spec.name}.log`));
      this.running.push(c);
      const ticks = startTicks(c.pid);
      this.record.components.push({
        name: c.name,
        pid: c.pid,
        ...(c.port ? { port: c.port } : {}),
        ...(ticks !== null ? { startTicks: ticks } : {}),
      });
    }
    hooks.record(this.record);
    const names = plan.components.map((c) => `${c.name}${c.port ? ` (127.0.0.1:${c.port})` : ''}`);
    hooks.say(`starting ${names.join(', ')}`);
    return this.drive(plan, env, since);
  }

  /** Resolves with `p`'s value, or says what ended the wait first: the driver, a component, the clock. */
  private async watch<T>(p: Promise<T>, driverExit: Promise<DriverExit>, deadline: number): Promise<Watched<T>> {
    let value: { v: T } | undefined;
    let exit: DriverExit | undefined;
    void p.then((v) => (value = { v }));
    void driverExit.then((e) => (exit = e));
    for (;;) {
      // A value that arrived with the driver's exit (its last report) wins over the exit.
      await delay(100);
      if (value) return { type: 'value', v: value.v };
      const dead = exitedComponent(this.running);
      if (dead?.exit) return { type: 'component', component: dead, exit: dead.exit };
      if (exit) return { type: 'driver', exit };
      if (Date.now() > deadline) return { type: 'timeout' };
    }
  }

  private async drive(plan: ComponentPlan, env: NodeJS.ProcessEnv, since: number): Promise<RunOutcome> {
    const { req, hooks } = this;
    const record = this.record;
    if (!record) throw new Error('drive before start');
    const seconds = () => ((Date.now() - since) / 1000).toFixed(1);
    const states = new Map<string, string | null>();
    const parsed = deferred<void>();
    const done = deferred<Extract<DriverEvent, { event: 'done' }>>();
    let importError: Extract<DriverEvent, { event: 'import_error' }> | undefined;
    const parser = this.major === '3' ? 'dag-processor' : 'scheduler';
    this.driver = startDriver(
      req.airflow.python,
      { dag_id: req.dagId, dag_file: req.dagFile, since: since / 1000 },
      env,
      (e) => {
        if (e.event === 'parsed') {
          hooks.say(`${parser} parsed ${req.dagId} (${seconds()} s)`);
          parsed.resolve();
        } else if (e.event === 'import_error') importError = e;
        else if (e.event === 'triggered') hooks.say(`triggered ${req.dagId}: run ${e.run_id}`);
        else if (e.event === 'task') {
          if (e.state !== null && states.get(e.task_id) !== e.state) hooks.say(`${e.task_id}: ${e.state}`);
          states.set(e.task_id, e.state);
        } else if (e.event === 'done') done.resolve(e);
      },
    );
    const driverExit = this.driver.exited;
    const startDeadline = since + req.readyTimeoutMs;
    const fail = (failure: RunFailure): RunOutcome => ({ ok: false, failure });
    const otherwise = (w: Exclude<Watched<unknown>, { type: 'value' }>, phase: 'start' | 'run'): RunOutcome => {
      if (w.type === 'component') return fail({ kind: 'component', component: w.component, exit: w.exit, phase });
      if (w.type === 'timeout') return fail({ kind: 'timeout', states });
      if (importError)
        return fail({ kind: 'import-error', file: importError.file, stacktrace: importError.stacktrace });
      return fail({ kind: 'driver', exit: w.exit });
    };

    const ready = await this.watch(
      waitReady(plan.health, this.running, {
        sinceMs: since,
        timeoutMs: req.readyTimeoutMs,
        onReady: (name) => hooks.say(`${COMPONENT_LABEL[name]} ready (${seconds()} s)`),
      }),
      driverExit,
      Number.POSITIVE_INFINITY,
    );
    if (ready.type !== 'value') return otherwise(ready, 'start');
    const r = ready.v;
    if (!r.ok && r.kind === 'exited')
      return fail({ kind: 'component', component: r.component, exit: r.exit, phase: 'start' });
    if (!r.ok) return fail({ kind: 'not-ready', waiting: r.waiting, components: this.running });
    const wasParsed = await this.watch(parsed.promise, driverExit, startDeadline);
    if (wasParsed.type === 'timeout') return fail({ kind: 'not-ready', waiting: [parser], components: this.running });
    if (wasParsed.type !== 'value') return otherwise(wasParsed, 'start');

    this.driver.go();
    const end = await this.watch(done.promise, driverExit, Date.now() + req.runTimeoutMs);
    if (end.type !== 'value') return otherwise(end, 'run');
    if (end.v.state === 'success') return { ok: true, runId: end.v.run_id, tasks: end.v.tasks, record };
    return fail({ kind: 'tasks', runId: end.v.run_id, tasks: end.v.tasks });
  }

  /** The environment the components run with. */
  env(): NodeJS.ProcessEnv {
    return this.componentEnv;
  }

  /** The components' output files, for a failure's message. */
  components(): RunningComponent[] {
    return this.running;
  }

  /** Marks the run as kept: its components stay after the command, recorded for `status` and `down`. */
  keep(signIn: string): AirflowRunRecord | undefined {
    if (!this.record) return undefined;
    this.record.kept = true;
    if (this.record.ui) this.record.ui.signIn = signIn;
    this.hooks.record(this.record);
    this.driver?.kill();
    return this.record;
  }

  /** Ends every process of the run (idempotent); clears the record once they are gone. */
  stop(): Promise<StopResult | undefined> {
    this.stopping ??= (async () => {
      this.driver?.kill();
      const rec = this.record;
      if (!rec) return undefined;
      const result = await stopRun(rec);
      // A refused pid is another process's now: ours is gone as well.
      if (!result.left.length) this.hooks.record(undefined);
      return result;
    })();
    return this.stopping;
  }
}

type Watched<T> =
  | { type: 'value'; v: T }
  | { type: 'component'; component: RunningComponent; exit: ComponentExit }
  | { type: 'driver'; exit: DriverExit }
  | { type: 'timeout' };

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// Held (not unref'd): the components are unref'd, so once the driver has exited this poll is what
// keeps the process alive until the run's failure is reported and everything stopped.
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
