import { answeredBy, backendLabel } from '../airflow/probe.js';
import { ok, warn, defineCheck } from './types.js';

/**
 * Other sources holding the same ids: AIRFLOW_CONN_* / AIRFLOW_VAR_* env vars (asked after Vault) and
 * metastore rows (asked last). They do not change what Airflow reads while Vault answers, but they
 * answer whenever Vault does not, so a broken Vault lookup looks fine. With Airflow's answer, the
 * precedence shown is what Airflow did.
 */
export const shadow = defineCheck({
  id: 'shadow',
  title: 'Other sources for the same ids',
  link: 'shadowing',
  async run(ctx) {
    const lines: string[] = [];
    const vars: string[] = [];
    const p = ctx.probe;
    if (p && !p.init_error) {
      for (const [kind, map] of [
        ['connection', p.connections],
        ['variable', p.variables],
      ] as const) {
        for (const [id, v] of Object.entries(map)) {
          const { answer, alsoHeldBy } = answeredBy(v);
          if (answer && alsoHeldBy.length)
            lines.push(
              `${kind} ${id}: ${backendLabel(answer)} answers; ${alsoHeldBy.map(backendLabel).join(' and ')} also ${alsoHeldBy.length > 1 ? 'hold' : 'holds'} it and would answer if it stopped`,
            );
          else if (answer && answer !== 'VaultBackend' && p.backends.some((b) => b.name === 'VaultBackend'))
            lines.push(`${kind} ${id}: answered by ${backendLabel(answer)}, not Vault`);
        }
      }
    } else {
      const ids = new Set(ctx.connIds ?? []);
      const keys = new Set(ctx.varKeys ?? []);
      for (const [k] of ctx.env) {
        const conn =
          k.startsWith('AIRFLOW_CONN_') &&
          (!ids.size || [...ids].some((id) => `AIRFLOW_CONN_${id.toUpperCase()}` === k));
        const variable =
          k.startsWith('AIRFLOW_VAR_') && [...keys].some((id) => `AIRFLOW_VAR_${id.toUpperCase()}` === k);
        if (conn || variable) {
          lines.push(`${k} is set: Airflow reads it whenever Vault misses`);
          vars.push(k);
        }
      }
    }
    if (lines.length) return warn(lines.join('; '), vars.length ? `unset ${vars.join(' ')}` : undefined);
    return ok(
      p
        ? 'every id comes from one source only'
        : 'no AIRFLOW_CONN_* or AIRFLOW_VAR_* env var for these ids (metastore rows need Airflow to see)',
    );
  },
});
