/**
 * Whether the create flow asks real Airflow, and how far: a module of its own so the flow can
 * decide (skip lists, dry run) without loading the check's code, which loads Airflow's probe and doctor.
 */
import type { CreateContext } from './context.js';

export function airflowCheckLevel(ctx: CreateContext): 'airflow' | 'dag' | 'run' | null {
  const c = ctx.settings.check;
  if (c === 'airflow' || c === 'dag' || c === 'run') return c;
  return c === 'auto' && (ctx.airflow || ctx.settings.withAirflow) ? 'airflow' : null;
}

export function skipAirflowCheck(ctx: CreateContext): string | undefined {
  // It compares Airflow's answer with what was seeded; an existing Vault's own secrets are for doctor to ask Airflow about.
  if (ctx.settings.existing && !ctx.settings.existing.seed)
    return 'an existing Vault without --seed: nothing seeded to compare (run doctor to ask Airflow)';
  if (airflowCheckLevel(ctx)) return undefined;
  return ctx.settings.check === 'auto'
    ? 'no Airflow found; the Vault-level check stands'
    : `--check ${ctx.settings.check}`;
}

export function skipAirflowRun(ctx: CreateContext): string | undefined {
  return skipAirflowCheck(ctx) ?? (ctx.settings.check === 'run' ? undefined : `--check ${ctx.settings.check}`);
}
