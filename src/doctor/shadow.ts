import { connEnvVar } from '../airflow/backend.js';
import { type Check, fail, ok } from './types.js';

export const shadow: Check = {
  id: 'shadow',
  title: 'No AIRFLOW_CONN_* stand-ins',
  async run(ctx) {
    const ids = new Set(ctx.connIds ?? Object.keys(ctx.config?.connections ?? {}));
    const found: string[] = [];
    for (const [k] of ctx.env) {
      if (!k.startsWith('AIRFLOW_CONN_')) continue;
      const matches = [...ids].some((id) => connEnvVar(id) === k);
      if (matches || ids.size === 0) found.push(k);
    }
    if (found.length) {
      return fail(
        `${found.join(', ')} set: Airflow reads it whenever Vault misses, so a broken Vault lookup looks fine`,
        `unset ${found.join(' ')}`,
      );
    }
    return ok(ids.size ? `no env var stands in for ${[...ids].join(', ')}` : 'no AIRFLOW_CONN_* variables');
  },
};
