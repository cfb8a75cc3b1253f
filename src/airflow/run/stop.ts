/**
 * Stops the Airflow components of a run, and only those: each recorded pid must be alive, an
 * airflow process, and carry the run's id in its environment (Linux) or run in the run's private
 * AIRFLOW_HOME (elsewhere). Every process of the run goes, wherever it sits in the tree: the
 * component's process group, what it forked (a task under its supervisor leads a group of its
 * own), and on Linux anything else that carries the run's id. SIGTERM first, SIGKILL after a grace
 * period; then the ports the run listened on are checked closed.
 */
import { connect } from 'node:net';
import { realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  canReadEnviron,
  cwdOf,
  environOf,
  familyOf,
  isAlive,
  processCommandLine,
  processesWithEnv,
  processTable,
  startTicks,
  type ProcessEntry,
} from '../../process-table.js';
import { COMPONENT_LABEL, type ComponentName } from './components.js';
import { RUN_ID_ENV, type AirflowRunRecord, type RunComponentRecord } from './record.js';

export interface ComponentProof {
  ours: boolean;
  why?: string;
}

function same(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

/**
 * Whether `pid` is this run's component: alive, the same process that was spawned (its start time,
 * where the system tells it), an airflow process, and carrying the run's id in its environment or
 * running in the run's private AIRFLOW_HOME (setproctitle, which the API server and the executor's
 * workers use, overwrites the environment /proc shows; the working dir stays).
 */
export function proveComponent(c: RunComponentRecord, rec: AirflowRunRecord): ComponentProof {
  const label = COMPONENT_LABEL[c.name];
  if (!isAlive(c.pid)) return { ours: false, why: `the ${label} (pid ${c.pid}) is not running` };
  const started = startTicks(c.pid);
  if (c.startTicks !== undefined && started !== null && started !== c.startTicks)
    return { ours: false, why: `pid ${c.pid} is another process now (it started later than the ${label})` };
  const cmd = processCommandLine(c.pid);
  if (!cmd?.includes('airflow'))
    return { ours: false, why: `pid ${c.pid} is another program now, not the ${label} this run started` };
  if (canReadEnviron() && environOf(c.pid)?.get(RUN_ID_ENV) === rec.runId) return { ours: true };
  const cwd = cwdOf(c.pid);
  if (cwd && same(cwd, rec.home)) return { ours: true };
  return { ours: false, why: `pid ${c.pid} is an airflow process outside ${rec.home}: not this sandbox's ${label}` };
}

/** Airflow processes working in the run's private AIRFLOW_HOME (where /proc tells), whatever their environment shows. */
function airflowIn(home: string, table: ProcessEntry[]): number[] {
  return table
    .filter((p) => p.pid !== process.pid && cwdIs(p.pid, home) && processCommandLine(p.pid)?.includes('airflow'))
    .map((p) => p.pid);
}

function cwdIs(pid: number, dir: string): boolean {
  const cwd = canReadEnviron() ? cwdOf(pid) : null;
  return cwd !== null && same(cwd, dir);
}

/**
 * Every live process of the run: the proven components, what they started, what carries the run's
 * id, and the airflow processes in its private home (a component whose pid the record lost).
 */
export function runProcesses(rec: AirflowRunRecord, leaders: number[]): number[] {
  const table = processTable();
  const all = new Set([
    ...familyOf(leaders, table),
    ...processesWithEnv(RUN_ID_ENV, rec.runId, table),
    ...airflowIn(rec.home, table),
  ]);
  all.delete(process.pid);
  return [...all].filter(isAlive);
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    if (group) signal(pid, sig, false);
    /* already gone, or not ours to signal (EPERM): the wait tells */
  }
}

/** Whether something accepts connections on 127.0.0.1:port now. */
export function isListening(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface StopResult {
  /** Components that were running and are gone now. */
  stopped: ComponentName[];
  /** Components already gone before the stop. */
  gone: ComponentName[];
  /** Recorded pids not proven ours: left alone. */
  refused: { name: ComponentName; pid: number; why: string }[];
  /** Processes of the run still alive after SIGKILL. */
  left: number[];
  /** Recorded ports something still listens on. */
  listening: number[];
}

export interface StopOptions {
  graceMs?: number;
  killWaitMs?: number;
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isAlive);
  while (alive.length && Date.now() < deadline) {
    await sleep(50);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/** How long a server that has closed its port gets to leave before SIGKILL. */
const CLOSED_GRACE_MS = 1_000;

/**
 * A component that serves a port has finished its work once the port is closed: the API server then
 * spends about ten more seconds in interpreter teardown (waiting on idle worker threads) for nothing.
 * Such a component gets a short grace after its port closes, then SIGKILL, so a stop does not wait on it.
 */
function finishOnceClosed(leaders: RunComponentRecord[]): { cancel: () => void } {
  let cancelled = false;
  const watch = async (c: RunComponentRecord & { port: number }) => {
    while (!cancelled && isAlive(c.pid) && (await isListening(c.port, 250))) await sleep(100);
    await sleep(CLOSED_GRACE_MS);
    if (!cancelled && isAlive(c.pid)) signal(c.pid, 'SIGKILL', true);
  };
  for (const c of leaders) if (c.port !== undefined) void watch({ ...c, port: c.port });
  return { cancel: () => (cancelled = true) };
}

export async function stopRun(rec: AirflowRunRecord, opts: StopOptions = {}): Promise<StopResult> {
  const result: StopResult = { stopped: [], gone: [], refused: [], left: [], listening: [] };
  const leaders: RunComponentRecord[] = [];
  for (const c of rec.components) {
    const proof = proveComponent(c, rec);
    if (proof.ours) leaders.push(c);
    else if (!isAlive(c.pid) || !processCommandLine(c.pid)?.includes('airflow')) result.gone.push(c.name);
    else result.refused.push({ name: c.name, pid: c.pid, why: proof.why ?? 'not proven ours' });
  }
  const leaderPids = leaders.map((c) => c.pid);
  const members = runProcesses(rec, leaderPids);
  const groups = new Set(leaderPids);
  const loose = members.filter((p) => !groups.has(p));
  for (const pid of leaderPids) signal(pid, 'SIGTERM', true);
  for (const pid of loose) signal(pid, 'SIGTERM', false);
  const closing = finishOnceClosed(leaders);
  let alive = await waitGone(members, opts.graceMs ?? 15_000);
  closing.cancel();
  if (alive.length) {
    for (const pid of leaderPids) signal(pid, 'SIGKILL', true);
    for (const pid of alive) signal(pid, 'SIGKILL', false);
    alive = await waitGone(alive, opts.killWaitMs ?? 5_000);
  }
  result.left = alive;
  for (const c of leaders) if (!alive.includes(c.pid)) result.stopped.push(c.name);
  const ports = rec.components.map((c) => c.port).filter((p): p is number => p !== undefined);
  for (const port of ports) if (await isListening(port)) result.listening.push(port);
  return result;
}

export interface RunStatus {
  kept: boolean;
  home: string;
  started_at: string;
  ui: { url: string; sign_in: string } | null;
  components: { name: ComponentName; pid: number; port?: number; running: boolean; why?: string }[];
}

/** What `status` says about a recorded run: each component, running (proven ours) or not. */
export function runStatus(rec: AirflowRunRecord): RunStatus {
  return {
    kept: rec.kept,
    home: rec.home,
    started_at: rec.startedAt,
    ui: rec.ui ? { url: rec.ui.url, sign_in: rec.ui.signIn } : null,
    components: rec.components.map((c) => {
      const p = proveComponent(c, rec);
      return {
        name: c.name,
        pid: c.pid,
        ...(c.port ? { port: c.port } : {}),
        running: p.ours,
        ...(p.why ? { why: p.why } : {}),
      };
    }),
  };
}
