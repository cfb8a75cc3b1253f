/**
 * --with-airflow: a `.venv` in the sandbox with Airflow 3 and its hashicorp provider, from the
 * pins this package ships (resolved once, frozen: no constraints URL needed), then checked with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { inspectAirflow } from '../airflow/runner.js';
import { runLines } from '../process.js';
import { PipProgress, pinnedCount } from '../progress.js';
import { findOnPath } from '../vault/binary.js';
import type { CreateContext } from './context.js';

const PIP_ENV = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' };

export async function installAirflow(ctx: CreateContext): Promise<void> {
  const req = join(packageRoot(), 'requirements', 'airflow3.txt');
  const pinned = /^apache-airflow==(\S+)$/m.exec(readFileSync(req, 'utf8'))?.[1] ?? '?';
  const venv = ctx.paths.venv;
  const bin = ctx.paths.venvAirflow;
  if (existsSync(bin)) {
    const have = await inspectAirflow(bin);
    if (have && have.version === pinned && have.provider) {
      ctx.airflow = have;
      ctx.report.info(`Airflow ${have.version} already in ${venv}`);
      return;
    }
  }
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python)
    throw new StepError(
      'install airflow',
      'no python3 on PATH to create the venv with',
      'install Python 3.10-3.13, then rerun with --with-airflow',
    );
  const progress = (m: string) => (ctx.report.progress ?? ctx.report.info)(m);
  const pins = readFileSync(req, 'utf8');
  // ~160 s on a 2-core runner, 40% of it collecting (bench/results.md): the first estimate.
  const tracker = new PipProgress(
    { what: `Airflow ${pinned}`, total: pinnedCount(pins), typicalMs: 160_000, collectShare: 0.4 },
    progress,
  ).start();
  let pip;
  try {
    progress(`creating ${venv}`);
    const mk = await runLines(python, ['-m', 'venv', venv], () => {}, { env: PIP_ENV, timeoutMs: 300_000 });
    if (mk.code !== 0)
      throw new StepError(
        'install airflow',
        `python3 -m venv failed: ${mk.tail.join(' ')}`,
        'install the venv module (Debian: apt install python3-venv)',
      );
    pip = await runLines(
      join(venv, 'bin', 'pip'),
      ['install', '--progress-bar', 'off', '-r', req],
      (l) => tracker.line(l),
      { env: PIP_ENV },
    );
  } finally {
    tracker.stop();
  }
  if (pip.code !== 0)
    throw new StepError(
      'install airflow',
      `pip could not install Airflow ${pinned}: ${pip.tail.slice(-2).join(' ')}`,
      `see ${venv}; rerun with --with-airflow once the cause is fixed`,
    );
  const found = await inspectAirflow(bin);
  if (!found)
    throw new StepError(
      'install airflow',
      `Airflow was installed into ${venv} but does not import`,
      `run ${bin} version to see why`,
    );
  ctx.airflow = found;
  ctx.report.info(`Airflow ${found.version} with hashicorp provider ${found.provider} in ${venv}`);
}
