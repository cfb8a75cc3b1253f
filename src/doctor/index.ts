/** The doctor's checks, in the order of the chain Airflow walks to reach a connection in Vault. */
import type { Check, CheckResult, DoctorContext } from './types.js';
import { serverBinary } from './server-binary.js';
import { airflow } from './airflow.js';
import { backendClass } from './backend-class.js';
import { backendKwargs } from './backend-kwargs.js';
import { address } from './address.js';
import { scheme } from './scheme.js';
import { reachable } from './reachable.js';
import { health } from './health.js';
import { token } from './token.js';
import { mount } from './mount.js';
import { connections } from './connections.js';
import { shadow } from './shadow.js';
import { dag } from './dag.js';
import { vaultTokenFile } from './vault-token-file.js';
import { macos } from './macos.js';
import { tls } from './tls.js';
import { auth } from './auth.js';
import { policy } from './policy.js';

export const CHECKS: Check[] = [
  serverBinary,
  airflow,
  backendClass,
  backendKwargs,
  address,
  scheme,
  tls,
  reachable,
  health,
  auth,
  token,
  policy,
  mount,
  connections,
  shadow,
  dag,
  vaultTokenFile,
  macos,
];

/** Runs every check; a check that throws is reported as failed, and one failure never stops the rest. */
export async function runChecks(ctx: DoctorContext, checks: Check[] = CHECKS): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const c of checks) {
    const blocked = (c.needs ?? [])
      .map((id) => results.find((r) => r.id === id))
      .find((r) => r && (r.status === 'fail' || r.status === 'skip'));
    if (blocked) {
      results.push({ id: c.id, title: c.title, status: 'skip', detail: `needs "${blocked.title}", which ${blocked.status === 'fail' ? 'failed' : 'was skipped'}` });
      continue;
    }
    try {
      results.push({ id: c.id, title: c.title, ...(await c.run(ctx)) });
    } catch (e) {
      results.push({ id: c.id, title: c.title, status: 'fail', detail: `the check itself failed: ${(e as Error).message}` });
    }
  }
  return results;
}
