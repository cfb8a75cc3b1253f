/**
 * `down [dir]`: stop the server this sandbox started, and only that one: a process proven ours by
 * identity (the sandbox id in its environment and the private HOME as its cwd, vault/identity.ts),
 * found by the record or, when the record lost it (a run killed right after the spawn, a renamed
 * dir), by identity alone. First the Airflow components a `--check run --keep` left (or a killed
 * run left behind), likewise only those proven that run's (airflow/run/stop.ts). "stopped" is said
 * only once it is gone; otherwise exit 1 and keep the record.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { acquireLock } from '../lock.js';
import { COMPONENT_LABEL } from '../airflow/run/components.js';
import type { AirflowRunRecord } from '../airflow/run/record.js';
import { stopRun } from '../airflow/run/stop.js';
import {
  clearServer,
  openSandbox,
  proveServer,
  recordAirflowRun,
  reloadFacts,
  runningServers,
  type Sandbox,
} from '../sandbox/index.js';
import { notManaged } from '../target/index.js';
import { writeOut, type OutputMode } from '../ui/output.js';
import { isDevServerCommand, type Proof } from '../vault/identity.js';
import { isAlive, processCommandLine, stopAndWait } from '../vault/server.js';

const STEP = 'down';

/** What down asks of the machine, injected so its decisions are unit-tested with fakes. */
export interface DownOps {
  /** This sandbox's running server and any other of its servers, by identity (src/sandbox). */
  servers(sb: Sandbox): { server?: { pid: number }; extra: number[] };
  isAlive(pid: number): boolean;
  commandLine(pid: number): string | undefined;
  proof(sb: Sandbox, pid: number, address: string): Proof;
  /** SIGTERM, then SIGKILL; true once the process is gone. */
  stop(pid: number): Promise<boolean>;
}

export const REAL_OPS: DownOps = {
  servers: runningServers,
  isAlive,
  commandLine: (pid) => processCommandLine(pid) ?? undefined,
  proof: proveServer,
  stop: stopAndWait,
};

export interface DownResult {
  stopped: boolean;
  pid?: number;
  message: string;
  fix?: string;
  code: number;
}

/** Stops every server that is this sandbox's; the record goes only once all of them are gone. */
async function stopOurs(sb: Sandbox, pids: number[], ops: DownOps): Promise<DownResult> {
  const rec = sb.server;
  const stuck: number[] = [];
  for (const pid of pids) if (!(await ops.stop(pid))) stuck.push(pid);
  const first = pids[0];
  if (stuck.length) {
    return {
      stopped: false,
      pid: stuck[0],
      code: 1,
      message: `could not stop the sandbox server (pid ${stuck.join(', ')}): it is still running after SIGTERM and SIGKILL`,
      fix: `kill -9 ${stuck.join(' ')} as its owner; the record is kept`,
    };
  }
  clearServer(sb.paths, STEP);
  const where = rec?.url ? ` on ${rec.url}` : '';
  return {
    stopped: true,
    pid: first,
    code: 0,
    message:
      pids.length > 1
        ? `stopped the sandbox servers (pids ${pids.join(', ')})`
        : `stopped the sandbox server (pid ${first})${where}`,
  };
}

/** Nothing of ours runs: say why, clearing a record that names a gone server, keeping one that names a foreign live one. */
function nothingOurs(sb: Sandbox, ops: DownOps): DownResult {
  const rec = sb.server;
  if (!rec) {
    return {
      stopped: false,
      code: 0,
      message:
        sb.facts.status === 'copied'
          ? "this dir was copied from another sandbox: its recorded server is not this one's; nothing to stop"
          : 'no sandbox server recorded here; nothing to stop',
    };
  }
  if (rec.pid === undefined || !ops.isAlive(rec.pid)) {
    clearServer(sb.paths, STEP);
    const what = rec.pid === undefined ? 'the server a run meant to start' : `the sandbox server (pid ${rec.pid})`;
    return { stopped: false, pid: rec.pid, code: 0, message: `${what} was not running; cleared its record` };
  }
  const proof = ops.proof(sb, rec.pid, rec.address);
  if (!isDevServerCommand(ops.commandLine(rec.pid) ?? '')) {
    // The pid was recycled by some other program: our server is gone; never signal that program.
    clearServer(sb.paths, STEP);
    return {
      stopped: false,
      pid: rec.pid,
      code: 0,
      message: `the sandbox server is gone: pid ${rec.pid} now belongs to another process; left it alone and cleared the record`,
    };
  }
  return {
    stopped: false,
    pid: rec.pid,
    code: 1,
    message: `did not stop pid ${rec.pid}: ${proof.why}`,
    fix: 'stop it yourself if it is yours; the record is kept',
  };
}

/** What down does with this sandbox, and what it says; touches only servers proven ours. */
export async function down(sb: Sandbox, ops: DownOps = REAL_OPS): Promise<DownResult> {
  const { status, error } = sb.facts;
  const state = relative(process.cwd(), sb.paths.state) || sb.paths.state;
  if (sb.target && !sb.server) return { stopped: false, code: 0, message: `nothing to stop: ${notManaged(sb.target)}` };
  if (status === 'corrupt')
    return {
      stopped: false,
      code: 1,
      message: `${state} is corrupt (it ${error}): cannot tell which server is this sandbox's`,
      fix: `stop the server yourself (look for '-dev-listen-address' in ps), then remove ${sb.paths.state}`,
    };
  const { server, extra } = ops.servers(sb);
  const pids = server ? [server.pid, ...extra] : extra;
  return pids.length ? stopOurs(sb, pids, ops) : nothingOurs(sb, ops);
}

export async function downCommand(dirArg: string | undefined, mode: OutputMode): Promise<number> {
  const opened = await openSandbox(dirArg);
  const { status } = opened.facts;
  const lockable = existsSync(opened.paths.stateDir) && status !== 'missing';
  const lock = lockable ? await acquireLock(opened.paths) : undefined;
  let result: DownResult;
  let airflow: AirflowDown | undefined;
  try {
    const sb = lock ? reloadFacts(opened) : opened;
    // Airflow first: its tasks would otherwise fail against a server that is gone.
    const run = sb.facts.status === 'ok' || sb.facts.status === 'moved' ? sb.facts.facts.airflowRun : undefined;
    if (run) airflow = await stopAirflow(sb, run);
    result = await down(sb);
  } finally {
    lock?.release();
  }
  const { code: serverCode, ...shown } = result;
  const code = airflow && !airflow.ok ? 1 : serverCode;
  if (mode.json) writeOut(JSON.stringify({ dir: opened.dir, ...shown, ...(airflow ? { airflow } : {}) }, null, 2));
  else if (!mode.quiet || code !== 0) {
    if (airflow) (airflow.ok ? process.stdout : process.stderr).write(`${airflow.message}\n`);
    (code ? process.stderr : process.stdout).write(`${result.message}\n${result.fix ? `fix: ${result.fix}\n` : ''}`);
  }
  return code;
}

interface AirflowDown {
  ok: boolean;
  message: string;
  stopped: string[];
  left: number[];
}

/** Stops the Airflow a `--check run` kept (or left behind): only processes proven to be that run's. */
async function stopAirflow(sb: Sandbox, rec: AirflowRunRecord): Promise<AirflowDown> {
  const r = await stopRun(rec);
  const names = r.stopped.map((n) => COMPONENT_LABEL[n]);
  if (r.left.length)
    return {
      ok: false,
      message: `could not stop Airflow: pid ${r.left.join(', ')} still running after SIGTERM and SIGKILL (kill -9 them as their owner; the record is kept)`,
      stopped: names,
      left: r.left,
    };
  recordAirflowRun(sb.paths, STEP, undefined);
  const refused = r.refused.map((x) => ` (left pid ${x.pid} alone: ${x.why})`).join('');
  return {
    ok: true,
    message: names.length
      ? `stopped Airflow (${names.join(', ')})${refused}`
      : `the Airflow of the last --check run was no longer running; cleared its record${refused}`,
    stopped: names,
    left: [],
  };
}
