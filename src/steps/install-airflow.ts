/**
 * --with-airflow: a `.venv` in the sandbox with Airflow 3 and its hashicorp provider, from the
 * pins this package ships (resolved once, frozen: no constraints URL needed), then checked with.
 */
import { existsSync } from 'node:fs';
import { inspectAirflow } from '../airflow/runner.js';
import { installPinned, pinsOf } from '../airflow/pinned.js';
import type { CreateContext } from './context.js';

export async function installAirflow(ctx: CreateContext): Promise<void> {
  const pins = pinsOf('3');
  const venv = ctx.paths.venv;
  const bin = ctx.paths.venvAirflow;
  if (existsSync(bin)) {
    const have = await inspectAirflow(bin);
    if (have && have.version === pins.version && have.provider) {
      ctx.airflow = have;
      ctx.report.info(`Airflow ${have.version} already in ${venv}`);
      return;
    }
  }
  const progress = (m: string) => (ctx.report.progress ?? ctx.report.info)(m);
  const found = await installPinned(pins, venv, progress);
  ctx.airflow = found;
  ctx.report.info(`Airflow ${found.version} with hashicorp provider ${found.provider} in ${venv}`);
}
