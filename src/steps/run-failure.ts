/**
 * A failed real run, told the way a user can act on it: which component failed (API server,
 * scheduler, dag-processor, webserver) or which task, the end of its output or log, and doctor's
 * explanation when the task could not resolve a connection for a reason doctor knows.
 */
import { relative } from 'node:path';
import { StepError } from '../errors.js';
import type { AirflowInstall } from '../airflow/runner.js';
import { COMPONENT_LABEL } from '../airflow/run/components.js';
import type { RunFailure } from '../airflow/run/run.js';
import { describeExit, outputTail, readEnd, type RunningComponent } from '../airflow/run/spawn.js';
import { logTail, parseTaskLog } from '../airflow/run/task-log.js';
import type { TaskEnd } from '../airflow/run/driver.js';
import type { FlowContext } from './context.js';

const STEP = 'check run';
const TASK_LOG_BYTES = 256 * 1024;

const rel = (p: string) => relative(process.cwd(), p) || p;

/** The lines of a component's output that Airflow logged as errors (both log formats). */
function errorLines(c: RunningComponent, n = 4): string[] {
  return outputTail(c.outFile, 400)
    .filter((l) => /\[(error|critical)\s*\]| (ERROR|CRITICAL) - /.test(l))
    .slice(-n);
}

function componentError(f: Extract<RunFailure, { kind: 'component' }>): StepError {
  const label = COMPONENT_LABEL[f.component.name];
  const when = f.phase === 'start' ? 'before it was ready' : 'during the run';
  return new StepError(
    STEP,
    `the ${label} ${describeExit(f.exit)} ${when}; the end of its output:`,
    `see ${rel(f.component.outFile)}`,
    { details: outputTail(f.component.outFile) },
  );
}

function notReadyError(f: Extract<RunFailure, { kind: 'not-ready' }>, timeoutS: number): StepError {
  const late = f.components.filter((c) => f.waiting.includes(c.name));
  return new StepError(
    STEP,
    `the ${f.waiting.map((n) => COMPONENT_LABEL[n]).join(' and ')} did not report ready within ${timeoutS} s`,
    `see ${late.map((c) => rel(c.outFile)).join(' and ')}; on a loaded machine, try again when it is quieter`,
    { details: late.flatMap((c) => outputTail(c.outFile, 4).map((l) => `${c.name}: ${l}`)) },
  );
}

/** The task that failed first (alphabetically: the order the driver reports them), with its log. */
function firstFailed(tasks: TaskEnd[]): TaskEnd | undefined {
  return tasks.find((t) => t.state === 'failed') ?? tasks.find((t) => t.state !== 'success');
}

async function tasksError(
  ctx: FlowContext,
  airflow: AirflowInstall,
  f: Extract<RunFailure, { kind: 'tasks' }>,
  components: RunningComponent[],
): Promise<StepError> {
  const failed = firstFailed(f.tasks);
  const others = f.tasks.filter((t) => t !== failed && t.state !== 'success').map((t) => t.task_id);
  const head = failed
    ? `task ${failed.task_id} ended ${failed.state ?? 'without a state'}${others.length ? ` (and ${others.join(', ')})` : ''} in run ${f.runId}`
    : `run ${f.runId} failed without a failed task`;
  const tail = failed?.log ? logTail(parseTaskLog(readEnd(failed.log, 'the task log', TASK_LOG_BYTES))) : [];
  const details = tail.length
    ? [`the end of its log (${rel(failed?.log ?? '')}):`, ...tail]
    : // The task never wrote a line: the component that was to run it says why.
      components.flatMap((c) => errorLines(c).map((l) => `${COMPONENT_LABEL[c.name]}: ${l}`));
  // A lookup that failed for a reason doctor knows (Vault gone, a token revoked, the worker side's backend).
  const ids = {
    connections: ctx.settings.connections.map((c) => c.id),
    variables: ctx.settings.variables.map((v) => v.key),
  };
  const d = await ctx.services.diagnose({ dir: ctx.paths.dir, airflow, ids }).catch(() => null);
  const why = d ? `; doctor: ${d.why}` : '';
  return new StepError(
    STEP,
    `${head}${why}`,
    d?.fix ??
      (failed?.log ? `see ${rel(failed.log)}` : 'see the output of each component under .sandbox/airflow/components'),
    { details },
  );
}

export async function runFailureError(
  ctx: FlowContext,
  airflow: AirflowInstall,
  f: RunFailure,
  components: RunningComponent[],
  timeouts: { readyS: number; runS: number },
): Promise<StepError> {
  switch (f.kind) {
    case 'migrate':
      return new StepError(
        STEP,
        `airflow db migrate failed in ${rel(ctx.paths.airflowHome)}`,
        `remove ${rel(ctx.paths.airflowHome)} to give Airflow a fresh database, and rerun`,
        { details: f.output.trim().split('\n').slice(-6) },
      );
    case 'component':
      return componentError(f);
    case 'not-ready':
      return notReadyError(f, timeouts.readyS);
    case 'import-error': {
      const parser = airflow.major === '3' ? 'dag-processor' : 'scheduler';
      const last = f.stacktrace.trim().split('\n').slice(-1)[0] ?? '';
      return new StepError(
        STEP,
        `the ${parser} could not import ${f.file}: ${last.slice(0, 300)}`,
        `fix the DAG file, or let the tool write it again: rerun with --force`,
        { details: f.stacktrace.trim().split('\n').slice(-8) },
      );
    }
    case 'driver':
      return new StepError(
        STEP,
        `Airflow's Python (${airflow.python}) could not trigger or follow the run: it ${f.exit.signal ? `was killed by ${f.exit.signal}` : `exited with code ${f.exit.code}`}`,
        'run the same Airflow with the sandbox .env loaded to see why',
        { details: f.exit.tail },
      );
    case 'timeout': {
      const states = [...f.states].map(([t, s]) => `${t}: ${s ?? 'no state yet'}`);
      const scheduler = components.find((c) => c.name === 'scheduler');
      return new StepError(
        STEP,
        `example_secrets_dag did not finish within ${timeouts.runS} s (${states.join(', ') || 'not triggered'})`,
        scheduler ? `see ${rel(scheduler.outFile)}` : undefined,
        { details: scheduler ? outputTail(scheduler.outFile, 6) : [] },
      );
    }
    case 'tasks':
      return tasksError(ctx, airflow, f, components);
  }
}
