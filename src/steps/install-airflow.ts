/**
 * --with-airflow: a `.venv` in the sandbox with Airflow 3 and its hashicorp provider, from the
 * pins this package ships (resolved once, frozen: no constraints URL needed), then checked with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StepError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { inspectAirflow } from '../airflow/runner.js';
import { runLines } from '../process.js';
import { PipProgress, pinnedCount } from '../progress.js';
import { findOnPath } from '../vault/binary.js';
import { defineStep, type FlowContext, type Produced } from './context.js';

const STEP = 'install airflow';

/** The requirements file this package ships and the Airflow version it pins. */
function pins(): { file: string; text: string; airflow: string } {
  const file = join(packageRoot(), 'requirements', 'airflow3.txt');
  const text = readFileSync(file, 'utf8');
  return { file, text, airflow: /^apache-airflow==(\S+)$/m.exec(text)?.[1] ?? '?' };
}

/** `python3 -m venv` then `pip install -r`, with a progress estimate while pip works. */
async function pipInstall(ctx: FlowContext, python: string, req: ReturnType<typeof pins>): Promise<void> {
  const venv = ctx.paths.venv;
  const env = { ...ctx.services.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' };
  const progress = (m: string) => (ctx.report.progress ?? ctx.report.info)(m);
  // ~160 s on a 2-core runner, 40% of it collecting (bench/results.md): the first estimate.
  const estimate = {
    what: `Airflow ${req.airflow}`,
    total: pinnedCount(req.text),
    typicalMs: 160_000,
    collectShare: 0.4,
  };
  const tracker = new PipProgress(estimate, progress).start();
  let pip: Awaited<ReturnType<typeof runLines>>;
  try {
    progress(`creating ${venv}`);
    const mk = await runLines(python, ['-m', 'venv', venv], () => {}, { env, timeoutMs: 300_000 });
    if (mk.code !== 0) {
      const fix = 'install the venv module (Debian: apt install python3-venv)';
      throw new StepError(STEP, `python3 -m venv failed: ${mk.tail.join(' ')}`, fix);
    }
    const args = ['install', '--progress-bar', 'off', '-r', req.file];
    pip = await runLines(join(venv, 'bin', 'pip'), args, (l) => tracker.line(l), { env });
  } finally {
    tracker.stop();
  }
  if (pip.code !== 0) {
    const fix = `see ${venv}; rerun with --with-airflow once the cause is fixed`;
    throw new StepError(STEP, `pip could not install Airflow ${req.airflow}: ${pip.tail.slice(-2).join(' ')}`, fix);
  }
}

async function installAirflow(ctx: FlowContext): Promise<Partial<Produced>> {
  const req = pins();
  const venv = ctx.paths.venv;
  const bin = ctx.paths.venvAirflow;
  const have = existsSync(bin) ? await inspectAirflow(bin) : null;
  if (have && have.version === req.airflow && have.provider) {
    ctx.report.info(`Airflow ${have.version} already in ${venv}`);
    return { airflow: have };
  }
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) {
    const fix = 'install Python 3.10-3.13, then rerun with --with-airflow';
    throw new StepError(STEP, 'no python3 on PATH to create the venv with', fix);
  }
  await pipInstall(ctx, python, req);
  const found = await inspectAirflow(bin);
  if (!found)
    throw new StepError(
      STEP,
      `Airflow was installed into ${venv} but does not import`,
      `run ${bin} version to see why`,
    );
  ctx.report.info(`Airflow ${found.version} with hashicorp provider ${found.provider} in ${venv}`);
  return { airflow: found };
}

export const installAirflowStep = defineStep({
  title: 'Install Airflow 3 into the sandbox .venv',
  needs: [],
  plan: (ctx) => ({
    lines: [
      `would install Airflow 3 with the hashicorp provider into ${relative(process.cwd(), ctx.paths.venv)} (unless one is there)`,
    ],
  }),
  run: installAirflow,
  skip: (ctx) => (ctx.settings.withAirflow ? undefined : 'no --with-airflow'),
});
