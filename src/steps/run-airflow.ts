/**
 * Step 8c (--check run): the guide's last step for real. In the sandbox's private AIRFLOW_HOME,
 * with the user's environment and the sandbox .env (as the probe gets them), start what a real run
 * needs, trigger example_secrets_dag, show each task's state as it changes, then show for each
 * connection the lines its task logged when it resolved it. Every process the run started is
 * stopped again whatever happens (a failure, Ctrl-C, SIGTERM: the command runs `ctx.undo`), unless
 * the run succeeded and --keep asks to leave them for the UI.
 */
import { relative } from 'node:path';
import { StepError } from '../errors.js';
import { dagTaskIds } from '../airflow/templates.js';
import { userEnvironment } from '../airflow/backend/index.js';
import { probeEnv } from '../airflow/probe.js';
import { COMPONENT_LABEL } from '../airflow/run/components.js';
import { AirflowRun } from '../airflow/run/run.js';
import { readEnd } from '../airflow/run/spawn.js';
import { stopRun, type StopResult } from '../airflow/run/stop.js';
import { parseTaskLog, resolvedLines } from '../airflow/run/task-log.js';
import type { TaskEnd } from '../airflow/run/driver.js';
import { signInFor } from '../airflow/run/sign-in.js';
import { readFacts, recordAirflowRun } from '../sandbox/index.js';
import { SANDBOX_ID_ENV } from '../vault/identity.js';
import { runFailureError } from './run-failure.js';
import { type AirflowCheck, defineStep, type FlowContext, type StepContext } from './context.js';
import { skipAirflowRun } from './airflow-check-level.js';

const STEP = 'check run';
const READY_TIMEOUT_S = 180;
const RUN_TIMEOUT_S = 300;

/** Tasks run one per connection; a few at once is all two cores can use. */
const parallelismFor = (connections: number) => Math.min(Math.max(connections, 1), 4);

/** One line for what a stop did, or a StepError when something of the run outlived it. */
function stopSummary(r: StopResult | undefined, what: string): string {
  if (!r) return `nothing of ${what} was running`;
  if (r.left.length)
    throw new StepError(
      STEP,
      `${what}: pid ${r.left.join(', ')} still running after SIGTERM and SIGKILL`,
      `kill -9 ${r.left.join(' ')} as its owner`,
    );
  if (r.listening.length)
    throw new StepError(
      STEP,
      `${what} stopped, but 127.0.0.1:${r.listening.join(', 127.0.0.1:')} still accept connections`,
      `see which process listens there (ss -ltnp) and stop it`,
    );
  const names = r.stopped.map((n) => COMPONENT_LABEL[n]);
  return names.length
    ? `stopped ${what} (${names.join(', ')}); nothing of it is left running or listening`
    : `${what} had already ended; nothing of it is left running or listening`;
}

/** Components a previous run left (--keep, or a CLI killed before it could stop them): stopped first. */
async function stopLeftover(ctx: FlowContext, say: (m: string) => void): Promise<void> {
  const rec = readFacts(ctx.paths).facts.airflowRun;
  if (!rec) return;
  const r = await stopRun(rec);
  say(stopSummary(r, `the Airflow a previous --check run ${rec.kept ? 'kept' : 'left'} running`));
  for (const x of r.refused) ctx.report.warn(`left pid ${x.pid} alone: ${x.why}`);
  recordAirflowRun(ctx.paths, STEP, undefined);
}

/** For each seeded connection, the lines its task logged when it resolved it. */
function connectionLines(ctx: FlowContext, tasks: TaskEnd[]): { id: string; task: string; lines: string[] }[] {
  const ids = ctx.settings.connections.map((c) => c.id);
  const taskIds = dagTaskIds(ids);
  return ids.map((id) => {
    const task = taskIds.get(id) ?? '';
    const log = tasks.find((t) => t.task_id === task)?.log;
    return { id, task, lines: log ? resolvedLines(parseTaskLog(readEnd(log, 'the task log', 256 * 1024))) : [] };
  });
}

async function runAirflow(ctx: StepContext<'airflow' | 'airflowChecks'>) {
  const s = ctx.settings;
  const airflow = ctx.airflow;
  if (!airflow) throw new StepError(STEP, '--check run needs Airflow, and none was found', 'add --with-airflow');
  if (airflow.major === '1.10')
    throw new StepError(
      STEP,
      `--check run needs Airflow 2 or 3; the one found is ${airflow.version}`,
      'use --check dag',
    );
  const say = (m: string) => (ctx.report.event ?? ctx.report.info)(m);
  await stopLeftover(ctx, say);

  // The user's environment with the sandbox .env sourced by bash, as the probe gets it.
  const base = probeEnv((await userEnvironment(ctx.services.env, ctx.paths.env)).env, ctx.paths.airflowHome);
  const run = new AirflowRun(
    {
      airflow,
      home: ctx.paths.airflowHome,
      dagsFolder: ctx.paths.dagsDir,
      dagFile: ctx.paths.dag,
      dagId: 'example_secrets_dag',
      baseEnv: base,
      marks: { [SANDBOX_ID_ENV]: s.facts.sandboxId },
      parallelism: parallelismFor(s.connections.length),
      keep: s.keep,
      readyTimeoutMs: READY_TIMEOUT_S * 1000,
      runTimeoutMs: RUN_TIMEOUT_S * 1000,
    },
    { record: (rec) => recordAirflowRun(ctx.paths, STEP, rec), say },
  );
  // Stopped again whatever happens: the command's clean-up (a failure, an interrupt) calls it too.
  ctx.spawned.airflow = run;
  let outcome;
  try {
    outcome = await run.execute();
  } catch (e) {
    await run.stop();
    throw e;
  }
  if (!outcome.ok) {
    const err = await runFailureError(ctx, airflow, outcome.failure, run.components(), {
      readyS: READY_TIMEOUT_S,
      runS: RUN_TIMEOUT_S,
    });
    say(stopSummary(await run.stop(), 'the Airflow this run started'));
    throw err;
  }

  const missing: string[] = [];
  const airflowChecks: AirflowCheck[] = [...ctx.airflowChecks];
  for (const c of connectionLines(ctx, outcome.tasks)) {
    if (!c.lines.length) missing.push(`${c.id} (task ${c.task})`);
    for (const l of c.lines) ctx.report.info(`${c.id}, from the log of task ${c.task}: ${l}`);
    airflowChecks.push({ id: c.id, kind: 'run', ok: c.lines.length > 0, detail: c.lines.join(' | ') });
  }
  if (missing.length)
    ctx.report.warn(
      `the run succeeded, but no 'Resolved' line was logged for ${missing.join(', ')}: the DAG may have been edited`,
    );
  airflowChecks.push({
    id: 'example_secrets_dag',
    kind: 'run',
    ok: true,
    detail: `run ${outcome.runId} succeeded: ${outcome.tasks.length} task(s)`,
  });

  if (s.keep) {
    const signIn = await signInFor(airflow, ctx.paths.airflowHome, run.env());
    const keptRun = run.keep(signIn);
    const ui = keptRun?.ui;
    say(`kept running for you${ui ? `: the Airflow UI is at ${ui.url} (${signIn})` : ''}`);
    return { airflowChecks, ...(keptRun ? { keptRun } : {}) };
  }
  say(stopSummary(await run.stop(), 'the Airflow this run started'));
  ctx.report.info(`Airflow's output and task logs stay in ${relative(process.cwd(), ctx.paths.airflowHome)}`);
  return { airflowChecks };
}

export const runAirflowStep = defineStep({
  title: "Run example_secrets_dag through Airflow's scheduler",
  needs: ['airflow', 'airflowChecks'],
  plan: (ctx) => ({
    lines: [
      `would start Airflow ${ctx.airflow?.version ?? ''} ${ctx.airflow?.major === '2' ? 'scheduler' : 'API server, scheduler and DAG processor'} in ${relative(process.cwd(), ctx.paths.airflowHome)}, trigger example_secrets_dag and ${ctx.settings.keep ? 'leave them running (--keep)' : 'stop them again'}`,
    ],
  }),
  run: runAirflow,
  skip: skipAirflowRun,
});
