/**
 * Whether the create flow asks real Airflow, and how far: a module of its own so the flow can
 * decide (skip lists, dry run) apart from the check's code, which runs Airflow's probe.
 */
import type { FlowContext } from './context.js';

export function airflowCheckLevel(ctx: FlowContext): 'airflow' | 'dag' | 'run' | null {
  const c = ctx.settings.check;
  if (c === 'airflow' || c === 'dag' || c === 'run') return c;
  return c === 'auto' && (ctx.airflow || ctx.settings.withAirflow) ? 'airflow' : null;
}

export function skipAirflowCheck(ctx: FlowContext): string | undefined {
  // It compares Airflow's answer with what was seeded; an existing Vault's own secrets are for doctor to ask Airflow about.
  if (ctx.settings.existing && !ctx.settings.existing.seed)
    return 'an existing Vault without --seed: nothing seeded to compare (run doctor to ask Airflow)';
  if (airflowCheckLevel(ctx)) return undefined;
  return ctx.settings.check === 'auto'
    ? 'no Airflow found; the Vault-level check stands'
    : `--check ${ctx.settings.check}`;
}

/** The real run (--check run) comes after the probe, and is skipped whenever the probe is. */
export function skipAirflowRun(ctx: FlowContext): string | undefined {
  return skipAirflowCheck(ctx) ?? (ctx.settings.check === 'run' ? undefined : `--check ${ctx.settings.check}`);
}
