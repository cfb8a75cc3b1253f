/**
 * `down [dir]`: stop the server this sandbox started, and only that one: a process proven ours
 * (vault/identity.ts); first the Airflow components a `--check run --keep` left, likewise proven
 * (airflow/run/stop.ts). "stopped" is said only once it is gone; otherwise exit 1 and keep the record.
 */
import {
  clearServer,
  findSandboxDir,
  readFacts,
  sandboxPaths,
  writeAirflowRun,
  type SandboxPaths,
} from '../sandbox.js';
import { stopRun } from '../airflow/run/stop.js';
import { COMPONENT_LABEL } from '../airflow/run/components.js';
import { isAlive, processCommandLine, stopAndWait } from '../vault/server.js';
import { proveOurs } from '../vault/identity.js';
import { acquireLock } from '../lock.js';
import { notManaged, readTargetRecord } from '../target/index.js';
import { existsSync } from 'node:fs';
import { writeOut, type OutputMode } from '../ui/output.js';
import { assertSandboxTrusted } from '../sandbox-trust.js';

export async function downCommand(dirArg: string | undefined, mode: OutputMode): Promise<number> {
  const dir = findSandboxDir(dirArg);
  const paths = sandboxPaths(dir);
  assertSandboxTrusted(paths);
  let result: { stopped: boolean; pid?: number; message: string; fix?: string };
  let code = 0;
  const { status, facts, error } = readFacts(paths);
  const lock = existsSync(paths.stateDir) && status !== 'missing' ? await acquireLock(paths) : undefined;
  let airflow: AirflowDown | undefined;
  try {
    // Airflow first: its tasks would otherwise fail against a server that is gone.
    if (status === 'ok' && facts.airflowRun) airflow = await stopAirflow(paths, facts.airflowRun);
    const sv = facts.server;
    const existing = readTargetRecord(paths.stateDir);
    if (existing && !sv) {
      result = { stopped: false, message: `nothing to stop: ${notManaged(existing)}` };
    } else if (status === 'corrupt') {
      code = 1;
      result = {
        stopped: false,
        message: `.sandbox/state.json is corrupt (it ${error}): cannot tell which server is this sandbox's`,
        fix: `stop the server yourself (look for '-dev-listen-address' in ps), then remove ${paths.state}`,
      };
    } else if (!sv) {
      result = {
        stopped: false,
        message:
          status === 'copied'
            ? "this dir was copied from another sandbox: its recorded server is not this one's; nothing to stop"
            : 'no sandbox server recorded here; nothing to stop',
      };
    } else if (!isAlive(sv.pid)) {
      clearServer(paths);
      result = {
        stopped: false,
        pid: sv.pid,
        message: `the sandbox server (pid ${sv.pid}) was not running; cleared its record`,
      };
    } else {
      const proof = proveOurs(sv.pid, { address: sv.address, sandboxId: facts.sandboxId, home: paths.home });
      const cmd = processCommandLine(sv.pid) ?? '';
      const aDevServer = / server /.test(` ${cmd} `) && cmd.includes('-dev');
      if (!proof.ours && !aDevServer) {
        // The pid was recycled by some other program: our server is gone; never signal that program.
        clearServer(paths);
        result = {
          stopped: false,
          pid: sv.pid,
          message: `the sandbox server is gone: pid ${sv.pid} now belongs to another process; left it alone and cleared the record`,
        };
      } else if (!proof.ours) {
        code = 1;
        result = {
          stopped: false,
          pid: sv.pid,
          message: `did not stop pid ${sv.pid}: ${proof.why}`,
          fix: 'stop it yourself if it is yours; the record is kept',
        };
      } else if (await stopAndWait(sv.pid)) {
        clearServer(paths);
        result = { stopped: true, pid: sv.pid, message: `stopped the sandbox server (pid ${sv.pid}) on ${sv.url}` };
      } else {
        code = 1;
        result = {
          stopped: false,
          pid: sv.pid,
          message: `could not stop the sandbox server (pid ${sv.pid}): it is still running after SIGTERM and SIGKILL`,
          fix: `kill -9 ${sv.pid} as its owner; the record is kept`,
        };
      }
    }
  } finally {
    lock?.release();
  }
  if (airflow && !airflow.ok) code = 1;
  if (mode.json) writeOut(JSON.stringify({ dir, ...result, ...(airflow ? { airflow } : {}) }, null, 2));
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
async function stopAirflow(
  paths: SandboxPaths,
  rec: NonNullable<ReturnType<typeof readFacts>['facts']['airflowRun']>,
): Promise<AirflowDown> {
  const r = await stopRun(rec);
  const names = r.stopped.map((n) => COMPONENT_LABEL[n]);
  if (r.left.length)
    return {
      ok: false,
      message: `could not stop Airflow: pid ${r.left.join(', ')} still running after SIGTERM and SIGKILL (kill -9 them as their owner; the record is kept)`,
      stopped: names,
      left: r.left,
    };
  writeAirflowRun(paths, undefined);
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
