/**
 * The create flow (also `up` and `doctor --fix`): resolve, then the ordered steps, one run at a time
 * per sandbox. If a step fails or the run is interrupted (SIGINT, SIGTERM, SIGHUP), a server this
 * run started is stopped again, and so are the Airflow components of a real run: no orphans. `--dry-run` is made of the steps' plans.
 */
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { isatty } from 'node:tty';
import { asStepFailure, Cancelled, StepError } from '../errors.js';
import { acquireLock, type Lock } from '../lock.js';
import { killRunningChildren } from '../process.js';
import {
  reloadFacts,
  removeCreated,
  type Snapshot,
  sandboxLayout,
  sandboxLinks,
  snapshotBefore,
  updateFacts,
} from '../sandbox/index.js';
import { type CreateOptions, droppedExample } from '../settings.js';
import { airflowLoginStep } from '../steps/airflow-login.js';
import { attachStep } from '../steps/attach.js';
import { checkStep } from '../steps/check.js';
import { checkAirflowStep } from '../steps/check-airflow.js';
import { type FlowContext, narrow, type Services, type Step } from '../steps/context.js';
import { importsStep } from '../steps/imports.js';
import { installAirflowStep } from '../steps/install-airflow.js';
import { nextStepsStep } from '../steps/next-steps.js';
import { chooseBinary, preflightStep, probeWritable } from '../steps/preflight.js';
import { readyStep } from '../steps/ready.js';
import { resolve } from '../steps/resolve.js';
import { runAirflowStep } from '../steps/run-airflow.js';
import { secretPaths, seedStep } from '../steps/seed.js';
import { startStep, stopStartedServer } from '../steps/start.js';
import { verifyAccessStep } from '../steps/verify-access.js';
import { describePlan, dryRunPlanInput, planFiles, writeFilesStep } from '../steps/write-files.js';
import { selfCommand } from '../ui/invocation.js';
import { colorWanted, type OutputMode, writeErr, writeOut } from '../ui/output.js';
import { renderModeFor, runSteps } from '../ui/tasks.js';
import { addressUrl, formatAddress } from '../vault/address.js';
import { devServerArgs } from '../vault/server.js';
import { askUser, confirmSeed } from './create-prompts.js';
import { report } from './create-report.js';
import { confirmPlan } from './plan-summary.js';
import { realServices } from './services.js';

/** The create flow, in order. Each step says what it needs; the runner checks it is there. */
const FLOW: readonly Step[] = [
  installAirflowStep,
  importsStep,
  preflightStep,
  startStep,
  readyStep,
  attachStep,
  verifyAccessStep,
  seedStep,
  airflowLoginStep,
  writeFilesStep,
  checkStep,
  checkAirflowStep,
  runAirflowStep,
  nextStepsStep,
];

/**
 * One step: its needs checked present, what it returns merged into the context. A file it could
 * not write (a full disk, a read-only dir) is that step's failure, with the way out. Once the run
 * is interrupted, whatever a step throws (a server killed under it) is the interrupt.
 */
async function runStep(step: Step, ctx: FlowContext): Promise<void> {
  if (ctx.signal?.aborted) throw new Cancelled(interruptWords(ctx.signal));
  try {
    Object.assign(ctx, await step.run(narrow(ctx, step)));
  } catch (e) {
    if (ctx.signal?.aborted) throw new Cancelled(interruptWords(ctx.signal));
    throw asStepFailure(step.title, e);
  }
}

/** `interrupted by Ctrl-C (SIGINT)`: what stopped the run, as the user did it. */
function interruptWords(signal: AbortSignal): string {
  const sig = String(signal.reason);
  return sig === 'SIGINT' ? 'interrupted by Ctrl-C (SIGINT)' : `stopped by ${sig}`;
}

export function outputModeOf(o: CreateOptions & { noColor?: boolean }): OutputMode {
  return {
    json: o.json ?? false,
    quiet: o.quiet ?? false,
    verbose: o.verbose ?? false,
    color: !o.json && colorWanted(o.noColor ?? false),
  };
}

function newContext(
  options: CreateOptions,
  resolved: Awaited<ReturnType<typeof resolve>>,
  services: Services,
): FlowContext {
  const { settings, airflow } = resolved;
  return {
    options,
    settings,
    paths: settings.sandbox.paths,
    services,
    report: { info: () => {}, warn: () => {} },
    warnings: [],
    spawned: {},
    airflow,
  };
}

/** What the facts say that the user should know before the run acts on them. */
function factsWarning(ctx: FlowContext): string | undefined {
  const { status, error } = ctx.settings.sandbox.facts;
  const state = rel(ctx.paths.state);
  if (status === 'corrupt')
    return `${state} is corrupt (it ${error}): starting from fresh facts; a server it may have named is not adopted or stopped`;
  if (status === 'copied')
    return "this sandbox dir was copied from another one: it gets its own sandbox id and server; the other sandbox's server is left alone";
  return undefined;
}

/** The settings, with a token typed at the prompt kept from Airflow and other children (only the settings hold it). */
async function resolveAsked(options: CreateOptions, token: string | undefined, env: NodeJS.ProcessEnv) {
  if (token) env.VAULT_TOKEN = token;
  try {
    return await resolve(options);
  } finally {
    if (token) delete env.VAULT_TOKEN;
  }
}

/** `done` hears what the run did (doctor --fix says it: the server started or reused, the files). */
export async function createCommand(
  options: CreateOptions,
  interactive = isatty(0),
  services: Services = realServices(),
): Promise<number> {
  return (await createRun(options, interactive, services)).code;
}

/** The create flow, with what it did (the run's context) for a caller that reports it (doctor --fix). */
export async function createRun(
  options: CreateOptions,
  interactive = isatty(0),
  services: Services = realServices(),
): Promise<{ code: number; ctx?: FlowContext }> {
  const mode = outputModeOf(options);
  const asked = await askUser(options, interactive, services.env);
  const resolved = await resolveAsked(asked.options, asked.token, services.env);
  const ctx = newContext(asked.options, resolved, services);
  const { settings } = ctx;
  const dropped = droppedExample(settings);
  if (dropped) ctx.warnings.push(dropped);
  if (settings.dryRun) return { code: await dryRun(ctx, mode) };

  // Bad input found before the lock (which creates .sandbox/): a dir we cannot write, a named binary that is not there.
  probeWritable(settings.dir);
  if (!settings.existing) chooseBinary(settings);
  if (settings.existing?.seed && !asked.options.yes) await confirmSeed(settings);
  // The wizard's last word: what will happen, then go ahead or not (nothing is written or started before).
  if (asked.wizard) await confirmPlan(ctx);
  await runAndTidy(ctx, mode);
  report(ctx, mode, asked.options.showToken ?? false);
  return { code: 0, ctx };
}

/**
 * The locked run. What is here before it makes anything is noted first: a run that fails or is
 * interrupted leaves the directory as it was (see undoCreated).
 */
async function runAndTidy(ctx: FlowContext, mode: OutputMode): Promise<void> {
  const { settings } = ctx;
  let before: Snapshot | undefined = snapshotBefore(ctx.paths, { dagsDir: settings.dagsDir });
  let waited = false;
  try {
    // One run at a time: a second one waits, then stops naming the first.
    const lock: Lock = await acquireLock(ctx.paths, undefined, (pid) => {
      waited = true;
      if (!mode.json && !mode.quiet) writeErr(`waiting for another run (pid ${pid}) on this sandbox…`);
    }).catch((e: unknown) => {
      before = undefined; // what is here now may be the other run's
      throw e;
    });
    // After a wait, what is here was made by the run we waited for: only what is still absent is ours to make.
    if (waited) before = snapshotBefore(ctx.paths, { dagsDir: settings.dagsDir });
    try {
      // The lock may have waited for a run that changed the facts: read them again.
      settings.sandbox = reloadFacts(settings.sandbox);
      settings.facts = settings.sandbox.facts.facts;
      const warning = factsWarning(ctx);
      if (warning) ctx.warnings.push(warning);
      if (!mode.json && !mode.quiet) for (const w of ctx.warnings) writeErr(`warning: ${w}`);
      await runLocked(ctx, mode, lock);
    } finally {
      lock.release();
    }
  } catch (e) {
    if (!before) throw e;
    const { error, note } = undoCreated(ctx, before, e);
    if (note && !mode.json) writeErr(`cleaned up: ${note}`);
    throw error;
  }
}

/**
 * After a failed or interrupted run: remove what it created (nothing is needed from it once no
 * server of its own is left running; files its error names stay) and say so. An interrupt becomes
 * one sentence naming the step.
 */
function undoCreated(ctx: FlowContext, before: Snapshot, e: unknown): { error: unknown; note?: string } {
  const end = ctx.ending ?? {};
  const removed = end.serverLeft ? [] : removeCreated(before, e instanceof StepError ? e.files : []);
  const top = removed.filter((p) => !removed.some((q) => q !== p && p.startsWith(`${q}/`)));
  const tidy = removed.length
    ? `removed what this run had created (${top.map(rel).join(', ')}), so the directory is as it was`
    : 'nothing this run created is left';
  const server = end.serverLeft
    ? `the server it started (pid ${end.serverLeft}) would not stop and is still recorded for ${selfCommand()} down`
    : end.serverStopped
      ? 'stopped the server it had started'
      : 'no server of this run is left running';
  if (e instanceof Cancelled && ctx.signal?.aborted) {
    const during = end.interruptedStep ? ` during '${end.interruptedStep}'` : '';
    return { error: new Cancelled(`${interruptWords(ctx.signal)}${during}: ${server}, and ${tidy}.`) };
  }
  return { error: e, note: removed.length || end.serverStopped ? `${server}; ${tidy}` : undefined };
}

/**
 * The steps, with the lock held. A failure or an interrupt stops a server this run started; the
 * first failure is the one reported (the clean-up never throws over it).
 */
async function runLocked(ctx: FlowContext, mode: OutputMode, lock: Lock): Promise<void> {
  const firstRun = ctx.settings.sandbox.facts.status === 'missing';
  const abort = new AbortController();
  ctx.signal = abort.signal;
  const end = (ctx.ending ??= {});
  let current: string | undefined;
  let stopping: Promise<boolean> | undefined;
  // Stops the server this run started, once, and notes how that went for the closing sentence.
  const stop = () => {
    const pid = ctx.spawned.serverPid;
    stopping ??= stopStarted(ctx).then((left) => {
      if (pid !== undefined && left) end.serverLeft = pid;
      else if (pid !== undefined) end.serverStopped = true;
      return left;
    });
    return stopping;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) return;
    end.interruptedStep = current;
    abort.abort(sig);
    killRunningChildren();
    void stop();
    // A step that does not notice the interrupt must not keep the user waiting: leave without it.
    setTimeout(() => {
      void stop().finally(() => {
        lock.release();
        if (!mode.json) writeErr(`${interruptWords(abort.signal)}: stopped what this run had started`);
        process.exit(130);
      });
    }, 15_000).unref();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    await runSteps(FLOW, ctx, renderModeFor(mode), mode, (step) => {
      current = step.title;
      return runStep(step, ctx);
    });
    recordFacts(ctx);
  } catch (e) {
    const left = await stop();
    // A first run that failed before anything ran leaves no state behind (nothing to remember yet).
    if (firstRun && !left) forget(ctx.paths.state);
    if (abort.signal.aborted) throw e instanceof Cancelled ? e : new Cancelled(interruptWords(abort.signal));
    throw e;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/** Stops what this run started: Airflow's components first (their tasks would fail on a stopped server), then the server. */
async function stopStarted(ctx: FlowContext): Promise<boolean> {
  await ctx.spawned.airflow?.stop().catch(() => {});
  return stopStartedServer(ctx);
}

/** Removes a record nothing depends on any more; a failure to is not the run's failure. */
function forget(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    /* the next run finds a record of a stopped server, and clears it */
  }
}

/** What this run found, for the next one: the Airflow and the config file in use (server facts are written by start). */
function recordFacts(ctx: FlowContext): void {
  updateFacts(ctx.paths, 'record', (facts) => ({
    ...facts,
    airflowBin: ctx.airflow?.bin ?? facts.airflowBin,
    airflowVersion: ctx.airflow?.version ?? facts.airflowVersion,
    configFile: ctx.settings.configFile,
    links:
      facts.links ?? sandboxLinks(ctx.paths, sandboxLayout(ctx.paths.dir).config, { dagsDir: ctx.settings.dagsDir }),
  }));
}

const rel = (p: string) => relative(process.cwd(), p) || p;

/** The server part of the dry run's JSON: what would start, or the existing Vault used. */
function plannedServer(ctx: FlowContext) {
  const s = ctx.settings;
  const { address: listen, binary, decision } = ctx;
  if (s.existing || !listen || !binary) return { existing: s.existing?.url, started: false };
  const certDir = s.tls ? ctx.paths.tlsDir : undefined;
  return {
    reuse: decision?.reuse ? { pid: decision.reuse.pid, url: decision.reuse.url } : null,
    command: [binary.path, ...devServerArgs(binary, formatAddress(listen), s.kvVersion, certDir)],
    url: decision?.reuse?.url ?? addressUrl(listen, s.tls),
  };
}

/** Every step's plan, in order, from what is on this machine now; what a plan decides, later plans read. */
async function planSteps(ctx: FlowContext): Promise<{ title: string; plan: string[] }[]> {
  const steps: { title: string; plan: string[] }[] = [];
  for (const step of FLOW) {
    if (step.skip?.(ctx) || !step.plan) continue;
    const planned = await step.plan(ctx);
    Object.assign(ctx, planned.decided);
    steps.push({ title: step.title, plan: planned.lines });
  }
  return steps;
}

/** The dry run: each step's plan. Nothing is installed, written or started. */
async function dryRun(ctx: FlowContext, mode: OutputMode): Promise<number> {
  ctx.report = { info: () => {}, warn: (m) => ctx.warnings.push(m) };
  const steps = await planSteps(ctx);
  const files = await planFiles(dryRunPlanInput(ctx));
  if (mode.json) {
    const plan = {
      dry_run: true,
      server: plannedServer(ctx),
      secrets: secretPaths(ctx.settings),
      files: files.map(describePlan),
      steps,
      warnings: ctx.warnings,
    };
    writeOut(JSON.stringify(plan, null, 2));
    return 0;
  }
  // One write: a plan of 100,000 imported connections is as many lines, and a write each is felt.
  const out = ['Dry run: nothing is installed, started or written. A real run now would:'];
  for (const st of steps) {
    out.push(`- ${st.title}`);
    for (const l of st.plan) out.push(`    ${l}`);
  }
  for (const w of ctx.warnings) out.push(`! ${w}`);
  writeOut(out.join('\n'));
  return 0;
}
