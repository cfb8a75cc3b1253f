/** `doctor [dir]`: walk the chain link by link, name the broken one and its fix. */
import { createInterface } from 'node:readline/promises';
import { relative } from 'node:path';
import { CHECKS, examine } from '../doctor/index.js';
import { buildDoctorContext, type DoctorOptions } from '../doctor/context.js';
import { askAirflowCommand, reloadEnv, toolMade } from '../doctor/fixes.js';
import type { CheckResult, DoctorContext } from '../doctor/types.js';
import type { Judged } from '../doctor/verdict.js';
import { cachedAirflow, cachedVenv, installCachedAirflow, type PinnedMajor } from '../airflow/pinned.js';
import type { AirflowInstall } from '../airflow/runner.js';
import { StepError, UsageError } from '../errors.js';
import { makePainter, writeErr, writeOut, type OutputMode } from '../ui/output.js';
import { redact } from '../ui/mask.js';
import { SECRET_KWARGS } from '../airflow/backend/index.js';
import type { Sandbox } from '../sandbox/index.js';
import type { FlowContext } from '../steps/context.js';
import { createRun } from './create.js';

const MARK: Record<CheckResult['status'], string> = { ok: '[✓]', warn: '[!]', fail: '[✗]', skip: '[-]', crash: '[‼]' };

export function printResults(results: CheckResult[], mode: OutputMode, secrets: (string | undefined)[]): void {
  const paint = makePainter(mode.color);
  const colour = { ok: 'green', warn: 'yellow', fail: 'red', skip: 'gray', crash: 'red' } as const;
  for (const r of results) {
    writeOut(redact(`${paint(colour[r.status], MARK[r.status])} ${r.title}: ${r.detail}`, secrets));
    if (r.fix && (r.status === 'fail' || r.status === 'warn' || r.status === 'crash'))
      writeOut(redact(`    Fix: ${r.fix}`, secrets));
    if (mode.verbose) for (const d of r.details ?? []) writeOut(redact(`    ${d}`, secrets));
  }
}

function summaryLine(results: CheckResult[], judged: Judged): string {
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const bad = count('fail') + count('crash');
  const crashed = count('crash') ? ` (${count('crash')} check(s) crashed)` : '';
  if (bad) return `${bad} problem(s) found${crashed}, ${count('warn')} warning(s).`;
  if (!judged.decided) return `No problem proven; ${count('warn')} warning(s). Airflow would decide the rest.`;
  return count('warn') ? `No problems; ${count('warn')} warning(s).` : 'No problems found.';
}

export interface DoctorCommandOptions {
  fix: boolean;
  airflowBin?: string;
  config?: string;
  /** --airflow 3|2: ask the pinned Airflow of that major from the tool's cache. */
  askAirflow?: string;
  /** --yes: consent to installing it without a prompt. */
  yes?: boolean;
}

async function consent(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** The pinned Airflow `--airflow N` asks for: from the cache, or installed there once (with consent). */
async function pinnedAirflow(major: string, opts: DoctorCommandOptions, mode: OutputMode): Promise<AirflowInstall> {
  if (major !== '3' && major !== '2')
    throw new UsageError(`--airflow takes 3 or 2 (the Airflow majors whose pins this package ships), not '${major}'`);
  if (opts.airflowBin !== undefined)
    throw new UsageError('--airflow and --airflow-bin both name the Airflow to ask; pick one');
  const m: PinnedMajor = major;
  const have = await cachedAirflow(m);
  if (have) return have;
  const { dir, pins } = cachedVenv(m);
  const what = `Airflow ${pins.version} with its hashicorp provider into ${dir} (once; pip downloads about 150 packages)`;
  if (!opts.yes) {
    if (!process.stdin.isTTY || !process.stderr.isTTY || mode.json)
      throw new UsageError(`doctor --airflow ${m} installs ${what}: rerun with --yes to allow it`);
    if (!(await consent(`Install ${what}?`))) throw new UsageError('not installed: doctor --airflow needs it');
  }
  const progress = (line: string) => {
    if (!mode.quiet) writeErr(line);
  };
  return installCachedAirflow(m, progress);
}

/** What --fix changed, for the user (and their shell, which doctor cannot see). */
interface FixReport {
  applied: boolean;
  said: string[];
  /** The command that loads the rewritten .env into the user's shell, when its credentials changed. */
  reload?: string;
  /** The repair (the create flow) failed: where, why, and its way out; the checks after it say what holds. */
  error?: { step?: string; message: string; fix?: string };
}

/** The credentials Airflow reads, to tell whether --fix changed them. */
function credentials(ctx: DoctorContext): string {
  const kw = ctx.backend.kwargs;
  return JSON.stringify([...SECRET_KWARGS.map((k) => kw[k]), kw.role_id, ctx.env.get('VAULT_TOKEN')]);
}

/** What the create flow did, in the words --fix reports it with. */
function whatItDid(done: FlowContext | undefined, sb: Sandbox): string[] {
  if (!done) return [];
  const said: string[] = [];
  if (done.server)
    said.push(
      done.server.startedNow
        ? `started the sandbox server (pid ${done.server.pid}, ${done.server.url})`
        : `reused the running server (pid ${done.server.pid})`,
    );
  const seeded = done.seeded ?? [];
  const changed = seeded.filter((s) => s.outcome !== 'unchanged').length;
  said.push(`re-seeded from ${sb.config.label}: ${changed} written, ${seeded.length - changed} unchanged`);
  for (const f of done.files ?? []) {
    const name = relative(process.cwd(), f.path) || f.path;
    if (f.outcome === 'kept') said.push(`kept ${name}: ${f.note ?? 'you edited it'}`);
    else if (f.outcome !== 'unchanged') said.push(`${f.outcome} ${name}`);
  }
  return said;
}

/** The create flow as --fix runs it: what it did, or why it failed (the doctor report follows either way). */
async function runRepair(
  sb: Sandbox,
  opts: DoctorCommandOptions,
): Promise<{ done?: FlowContext; error?: NonNullable<FixReport['error']> }> {
  try {
    const run = await createRun(
      {
        dir: sb.dir,
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        yes: true,
        quiet: true,
        check: 'vault',
        transient: ['check'],
        command: 'doctor --fix',
      },
      false,
    );
    return run.ctx ? { done: run.ctx } : {};
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const step = e instanceof StepError ? e.step : undefined;
    const fix = e instanceof StepError ? e.fix : undefined;
    return {
      error: { ...(step !== undefined ? { step } : {}), message: e.message, ...(fix !== undefined ? { fix } : {}) },
    };
  }
}

/**
 * The safe repair of a sandbox made by this tool: the same flow as `up` (its server restarted when
 * needed, or reused; re-seeded from its config; the files it wrote rewritten, the user's kept and
 * said so), then every check again, also when the repair failed (the flow stops what it started).
 */
async function repair(
  ctx: DoctorContext,
  judged: Judged,
  opts: DoctorCommandOptions,
): Promise<{ ctx: DoctorContext; judged: Judged; report: FixReport }> {
  const broken = judged.results.filter((r) => r.status === 'fail' && r.repairable);
  const sb = toolMade(ctx);
  if (!broken.length) return { ctx, judged, report: { applied: false, said: ['nothing --fix can repair'] } };
  if (!sb?.config.exists)
    return {
      ctx,
      judged,
      report: {
        applied: false,
        said: ['nothing applied: --fix repairs a sandbox made by this tool (run it in the sandbox dir)'],
      },
    };
  const { done, error } = await runRepair(sb, opts);
  const said: string[] = [`repairing: ${broken.map((b) => b.id).join(', ')}`, ...whatItDid(done, sb)];
  if (error)
    said.push(
      `the repair failed${error.step ? ` at ${error.step}` : ''}: ${error.message}${error.fix ? ` (fix: ${error.fix})` : ''}`,
    );
  const next = await buildDoctorContext(sb.dir, process.env, contextOptions(opts, ctx.airflow));
  const reload = credentials(next) !== credentials(ctx) ? reloadEnv(sb.paths.env) : undefined;
  if (reload)
    said.push(
      `the credentials in ${relative(process.cwd(), sb.paths.env) || sb.paths.env} changed: reload .env in your shell (${reload})`,
    );
  return {
    ctx: next,
    judged: await examine(next, CHECKS),
    report: { applied: !error, said, ...(reload ? { reload } : {}), ...(error ? { error } : {}) },
  };
}

function contextOptions(opts: DoctorCommandOptions, airflow?: AirflowInstall | null): DoctorOptions {
  return {
    ...(opts.airflowBin !== undefined ? { airflowBin: opts.airflowBin } : {}),
    ...(opts.config !== undefined ? { config: opts.config } : {}),
    ...(airflow !== undefined ? { airflow } : {}),
  };
}

function verdictLine(ctx: DoctorContext, judged: Judged): string {
  const a = ctx.airflow;
  if (judged.verdict === 'airflow' && a)
    return `Verdict: Airflow ${a.version}'s own (${a.bin}, asked once for every id); the checks explain it.`;
  const why = ctx.notAsked
    ? `Airflow ${a?.version ?? ''} was not asked: ${ctx.notAsked}`
    : a
      ? `Airflow ${a.version} could not be asked`
      : 'no Airflow found (airflow on PATH, --airflow-bin, the sandbox .venv, or --airflow 3|2)';
  if (!judged.decided) return `Verdict: none yet (${why}). Airflow would decide this: ${askAirflowCommand(ctx)}`;
  return `Verdict: doctor's, from what Vault and the files prove (${why}).`;
}

export async function doctorCommand(
  dirArg: string | undefined,
  mode: OutputMode,
  opts: DoctorCommandOptions,
): Promise<number> {
  const pinned = opts.askAirflow !== undefined ? await pinnedAirflow(opts.askAirflow, opts, mode) : undefined;
  let ctx = await buildDoctorContext(dirArg, process.env, contextOptions(opts, pinned));
  let judged = await examine(ctx, CHECKS);
  let fixed: FixReport | undefined;
  if (opts.fix) ({ ctx, judged, report: fixed } = await repair(ctx, judged, opts));
  const kw = ctx.backend.kwargs;
  const secrets = [
    ctx.token,
    ctx.serverToken,
    ctx.tokenLookup?.token,
    ...SECRET_KWARGS.map((k) => (typeof kw[k] === 'string' ? (kw[k] as string) : undefined)),
  ];
  const results = judged.results;
  const crashed = results.some((r) => r.status === 'crash') && judged.verdict === 'emulation';
  // A repair that failed fails the run, whatever the checks after it say.
  const failed = judged.failed || crashed || fixed?.error !== undefined;
  if (mode.json) {
    const doc = {
      ok: !failed,
      sandbox: ctx.paths?.dir ?? null,
      verdict: judged.verdict,
      decided: judged.decided,
      ...(ctx.probe && ctx.airflow
        ? {
            airflow: {
              version: ctx.airflow.version,
              bin: ctx.airflow.bin,
              probeSeconds: ctx.probe.wallSeconds,
              timings: ctx.probe.timings,
            },
          }
        : {}),
      ...(ctx.notAsked ? { notAsked: ctx.notAsked } : {}),
      ...(!judged.decided ? { ask: askAirflowCommand(ctx) } : {}),
      ...(fixed ? { fixed } : {}),
      checks: results,
    };
    writeOut(redact(JSON.stringify(doc, null, 2), secrets));
  } else {
    if (ctx.paths) writeOut(`Sandbox: ${ctx.paths.dir}`);
    else writeOut('No sandbox here: checking the environment (VAULT_ADDR, VAULT_TOKEN, AIRFLOW__SECRETS__*).');
    writeOut(verdictLine(ctx, judged));
    for (const line of fixed?.said ?? []) writeErr(redact(`fix: ${line}`, secrets));
    printResults(results, mode, secrets);
    writeOut('');
    writeOut(summaryLine(results, judged));
  }
  return failed ? 1 : 0;
}
