/**
 * --with-airflow: a `.venv` in the sandbox with Airflow 3 and its hashicorp provider, from the
 * pins this package ships (resolved once, frozen: no constraints URL needed), then checked with.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { installPinned, pinsOf } from '../airflow/pinned.js';
import { inspectAirflow } from '../airflow/runner.js';
import { defineStep, type FlowContext, type Produced } from './context.js';

async function installAirflow(ctx: FlowContext): Promise<Partial<Produced>> {
  const pins = pinsOf('3');
  const venv = ctx.paths.venv;
  const bin = ctx.paths.venvAirflow;
  const have = existsSync(bin) ? await inspectAirflow(bin) : null;
  if (have && have.version === pins.version && have.provider) {
    ctx.report.info(`Airflow ${have.version} already in ${venv}`);
    return { airflow: have };
  }
  const progress = (m: string) => (ctx.report.progress ?? ctx.report.info)(m);
  const found = await installPinned(pins, venv, progress, {
    env: ctx.services.env,
    rerun: 'rerun with --with-airflow',
  });
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
