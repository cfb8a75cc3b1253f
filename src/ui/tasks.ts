/**
 * Shows the create flow's steps: a listr2 task list on a terminal, plain lines otherwise, nothing
 * but warnings with --json. listr2 is imported only when it will draw.
 */
import type { FlowContext, Reporter, Step } from '../steps/context.js';
import { redact } from './mask.js';
import { makePainter, writeErr, writeOut, type OutputMode } from './output.js';

export type RenderMode = 'tty' | 'plain' | 'silent';

export function renderModeFor(mode: OutputMode): RenderMode {
  if (mode.json || mode.quiet) return 'silent';
  return process.stdout.isTTY && process.env.TERM !== 'dumb' ? 'tty' : 'plain';
}

const secretsOf = (ctx: FlowContext) => [ctx.server?.token, ctx.settings.rootToken];

type Execute = (step: Step) => Promise<void>;

/** Plain lines (a log, CI): each step's lines under its title once it is done; silent: warnings only. */
async function runPlain(
  steps: readonly Step[],
  ctx: FlowContext,
  render: RenderMode,
  mode: OutputMode,
  execute: Execute,
) {
  const paint = makePainter(mode.color);
  for (const step of steps) {
    const reason = step.skip?.(ctx);
    if (reason) {
      if (render === 'plain' && mode.verbose) writeOut(`- ${step.title}: skipped (${reason})`);
      continue;
    }
    const lines: string[] = [];
    let lastProgress = 0;
    let headed = false;
    const head = () => {
      if (!headed) writeOut(`… ${step.title}`);
      headed = true;
    };
    ctx.report = {
      info: (m) => lines.push(redact(m, secretsOf(ctx))),
      // A long wait must not look hung in a log: said at once, then at most every 5 s.
      progress: (m) => {
        if (render !== 'plain' || Date.now() - lastProgress < 5_000) return;
        head();
        lastProgress = Date.now();
        writeOut(`  ${redact(m, secretsOf(ctx))}`);
      },
      // Said when it happens, so a log shows each component and task state in time.
      event: (m) => {
        if (render !== 'plain') return;
        head();
        writeOut(`  ${redact(m, secretsOf(ctx))}`);
      },
      warn: (m) => {
        const text = redact(m, secretsOf(ctx));
        ctx.warnings.push(text);
        if (render === 'plain') lines.push(`${paint('yellow', '!')} ${text}`);
        else if (!mode.quiet || mode.json) writeErr(`warning: ${text}`);
      },
    };
    await execute(step);
    if (render === 'plain') {
      writeOut(`${paint('green', '✔')} ${step.title}`);
      for (const l of lines) writeOut(`  ${l}`);
    }
  }
}

/** A terminal: a listr2 task list, each step's latest line under its row. */
async function runTty(steps: readonly Step[], ctx: FlowContext, execute: Execute) {
  const { Listr } = await import('listr2');
  // Every skip depends only on what resolve settled, known before the first step: leave those steps out of the list.
  const tasks = steps
    .filter((step) => !step.skip?.(ctx))
    .map((step) => ({
      title: step.title,
      task: async (_c: FlowContext, task: { output: string }) => {
        const reporter: Reporter = {
          info: (m) => (task.output = redact(m, secretsOf(ctx))),
          progress: (m) => (task.output = redact(m, secretsOf(ctx))),
          event: (m) => (task.output = redact(m, secretsOf(ctx))),
          warn: (m) => {
            const text = redact(m, secretsOf(ctx));
            ctx.warnings.push(text);
            task.output = `! ${text}`;
          },
        };
        ctx.report = reporter;
        await execute(step);
      },
      rendererOptions: { persistentOutput: true, outputBar: Infinity },
    }));
  const list = new Listr<FlowContext>(tasks, {
    ctx,
    exitOnError: true,
    registerSignalListeners: false,
    rendererOptions: { collapseErrors: false, formatOutput: 'wrap' },
  });
  await list.run();
}

/**
 * Shows each step as it runs; `execute` runs it (the command's runner: needs checked, products
 * merged). A step's report lines go to the step's row on a terminal, under its title otherwise.
 */
export async function runSteps(
  steps: readonly Step[],
  ctx: FlowContext,
  render: RenderMode,
  mode: OutputMode,
  execute: Execute,
): Promise<void> {
  if (render === 'tty') await runTty(steps, ctx, execute);
  else await runPlain(steps, ctx, render, mode, execute);
}
