import type { Check, CheckResult, DoctorContext, Facts } from './types.js';
import { serverBinary } from './server-binary.js';
import { airflow } from './airflow.js';
import { airflowVerdict, judge } from './verdict.js';
import { backendClass } from './backend-class.js';
import { backendKwargs } from './backend-kwargs.js';
import { vaultEnv } from './vault-env.js';
import { address } from './address.js';
import { proxy } from './proxy.js';
import { scheme } from './scheme.js';
import { reachable } from './reachable.js';
import { health } from './health.js';
import { token } from './token.js';
import { mount } from './mount.js';
import { connections } from './connections.js';
import { variables } from './variables.js';
import { shadow } from './shadow.js';
import { dag } from './dag.js';
import { vaultTokenFile } from './vault-token-file.js';
import { macos } from './macos.js';
import { tls } from './tls.js';
import { workers } from './workers.js';

/** In Airflow's order: what it is, how it is configured, how it reaches and logs in to Vault, where it reads, what may stand in. */
export const CHECKS: Check[] = [
  serverBinary,
  airflow,
  airflowVerdict,
  backendClass,
  backendKwargs,
  vaultEnv,
  workers,
  address,
  proxy,
  scheme,
  tls,
  reachable,
  health,
  token,
  mount,
  connections,
  variables,
  shadow,
  dag,
  vaultTokenFile,
  macos,
];

/**
 * Runs every check in order. Each sees the context plus the facts earlier checks provided (read-only);
 * a check that throws is reported as `crash` with its error; one failure never stops the rest.
 * With Airflow's answer at hand, Airflow's verdict decides (see verdict.ts judge).
 */
export async function runChecks(ctx: DoctorContext, checks: Check[] = CHECKS): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const facts: Facts = {};
  for (const c of checks) {
    const base = { id: c.id, title: c.title, ...(c.link ? { link: c.link } : {}) };
    const blocked = (c.needs ?? [])
      .map((id) => results.find((r) => r.id === id))
      .find((r) => r && (r.status === 'fail' || r.status === 'skip' || r.status === 'crash'));
    if (blocked) {
      results.push({
        ...base,
        status: 'skip',
        detail: `needs "${blocked.title}", which ${blocked.status === 'skip' ? 'was skipped' : blocked.status === 'crash' ? 'crashed' : 'failed'}`,
      });
      continue;
    }
    try {
      const { facts: provided, ...outcome } = await c.run(Object.freeze({ ...ctx, ...facts }));
      for (const [k, v] of Object.entries(provided ?? {})) {
        if (!c.provides?.includes(k as keyof Facts)) throw new Error(`provides '${k}', which it does not declare`);
        (facts as Record<string, unknown>)[k] = v;
      }
      results.push({ ...base, ...outcome });
    } catch (e) {
      const err = e as Error;
      results.push({
        ...base,
        status: 'crash',
        detail: `the check itself crashed: ${err.name}: ${err.message}`,
        details: err.stack?.split('\n').slice(1, 6),
      });
    }
  }
  return judge(results);
}
