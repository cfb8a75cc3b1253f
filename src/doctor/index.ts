import { address } from './address.js';
import { airflow } from './airflow.js';
import { backendClass } from './backend-class.js';
import { backendKwargs } from './backend-kwargs.js';
import { configSource } from './config-source.js';
import { connections } from './connections.js';
import { dag } from './dag.js';
import { health } from './health.js';
import { macos } from './macos.js';
import { mount } from './mount.js';
import { proxy } from './proxy.js';
import { reachable } from './reachable.js';
import { scheme } from './scheme.js';
import { serverBinary } from './server-binary.js';
import { shadow } from './shadow.js';
import { tls } from './tls.js';
import { token } from './token.js';
import { type Check, CHECK_IDS, type CheckId, type CheckResult, type DoctorContext, PROVIDES } from './types.js';
import { values } from './values.js';
import { variables } from './variables.js';
import { vaultEnv } from './vault-env.js';
import { vaultTokenFile } from './vault-token-file.js';
import { airflowVerdict, judge, type Judged } from './verdict.js';
import { workers } from './workers.js';

/** In Airflow's order: what it is, how it is configured, how it reaches and logs in to Vault, where it reads, what may stand in. */
export const CHECKS: readonly Check[] = [
  serverBinary,
  airflow,
  airflowVerdict,
  backendClass,
  configSource,
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
  values,
  shadow,
  dag,
  vaultTokenFile,
  macos,
] as Check[];

const inOrder = CHECKS.map((c) => c.id).join() === CHECK_IDS.join();
if (!inOrder) throw new Error('src/doctor: CHECKS and CHECK_IDS list the checks in different orders');

/** Why a check cannot run: a check it needs did not pass (or did not run before it). */
function unmetNeed(c: Check, results: CheckResult[]): string | undefined {
  for (const id of c.needs ?? []) {
    const r = results.find((x) => x.id === id);
    if (!r) return `needs "${id}", which did not run before it`;
    if (r.status === 'fail' || r.status === 'skip' || r.status === 'crash')
      return `needs "${r.title}", which ${r.status === 'skip' ? 'was skipped' : r.status === 'crash' ? 'crashed' : 'failed'}`;
  }
  return undefined;
}

/**
 * Runs every check in order. Each sees the context plus the facts of the checks it needs
 * (read-only); a check that throws is reported as `crash` with its error; one failure never stops
 * the rest. A providing check that passes without handing on its facts is a crash of that check.
 */
export async function runChecks(ctx: DoctorContext, checks: readonly Check[] = CHECKS): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const facts = new Map<CheckId, Record<string, unknown>>();
  for (const c of checks) {
    const base: CheckResult = {
      id: c.id,
      title: c.title,
      status: 'skip',
      detail: '',
      ...(c.link ? { link: c.link } : {}),
    };
    const unmet = unmetNeed(c, results);
    if (unmet) {
      results.push({ ...base, detail: unmet });
      continue;
    }
    const input = Object.freeze(Object.assign({}, ctx, ...(c.needs ?? []).map((id) => facts.get(id) ?? {})));
    try {
      const outcome = await c.run(input);
      const { facts: provided, repairable, ...rest } = outcome as typeof outcome & { facts?: Record<string, unknown> };
      const passing = rest.status === 'ok' || rest.status === 'warn';
      if (passing && c.id in PROVIDES && !provided) throw new Error('passed without handing on its facts');
      if (provided && passing) facts.set(c.id, provided);
      const fixable = rest.status === 'fail' && (repairable ?? c.repair === true);
      results.push({ ...base, ...rest, ...(fixable ? { repairable: true } : {}) });
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
  return results;
}

/** Every check run, then the verdict: Airflow's own when it was asked, else what the emulation proved. */
export async function examine(ctx: DoctorContext, checks: readonly Check[] = CHECKS): Promise<Judged> {
  return judge(await runChecks(ctx, checks), checks, ctx);
}
