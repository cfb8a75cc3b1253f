/**
 * The Vault-level check's login and its explanations when Airflow's own credentials are in play
 * (AppRole, userpass, a CA, a namespace): log in as the provider does, and turn a refusal into the
 * broken link and its fix (a credential that expired, a policy without the data/ segment, a CA not
 * trusted). What each auth method means by a refusal comes from the registry (src/vault/auth).
 */
import { type AirflowLookup, secretPath } from '../airflow/backend/index.js';
import { StepError } from '../errors.js';
import { POLICY_READ, readUserFileIfExists } from '../io/read.js';
import { POLICY_FILE } from '../sandbox/index.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { type VaultApi, VaultError } from '../vault/api.js';
import { AuthError, authFor, methodOf } from '../vault/auth/index.js';
import { judgePolicy } from '../vault/auth/policy.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import type { FlowContext } from './context.js';

const AUTH_FIX = 'fix token_path in .env, or rerun with --force to rewrite .env';

/** The command that redoes this sandbox's set-up: new credentials, a rewritten .env. */
const rerunCommand = (ctx: FlowContext) => `${selfCommand()} ${shellArg(ctx.paths.dir)} --yes`;

export async function loginAsAirflow(ctx: FlowContext, b: AirflowLookup): Promise<VaultApi> {
  const base = ctx.services.vault({ url: b.url, caFile: b.caFile, namespace: b.namespace });
  try {
    return base.withToken((await authFor(b.auth).login(base)).token);
  } catch (e) {
    if (e instanceof AuthError) throw new StepError('check', `Airflow could not log in: ${e.message}`, AUTH_FIX);
    if (!(e instanceof VaultError)) throw e;
    const tls = describeVaultFailure(e, b.url, b.caFile);
    if (tls) throw new StepError('check', `Airflow could not reach Vault: ${tls.problem}`, tls.fix);
    if (e.kind !== 'http') throw new StepError('check', `Airflow's login to Vault failed: ${e.message}`);
    const method = methodOf(b.auth);
    const refusal = method.explainRefusal(e, b.auth, rerunCommand(ctx));
    const what = `Airflow's ${method.describe(b.auth)} was refused (${e.status})`;
    throw new StepError('check', `${what}: ${refusal.why}`, refusal.fix);
  }
}

/** The policy Airflow's token carries, as far as the tool can know it: the one written this run, else policy.hcl. */
function knownPolicy(ctx: FlowContext): string | null {
  if (ctx.policy) return ctx.policy.text;
  return readUserFileIfExists(ctx.paths.policy, POLICY_READ);
}

/** A 403 on a read with Airflow's own login: the policy's flaw and the block that fixes it, when the policy is known. */
function refusedRead(ctx: FlowContext, b: AirflowLookup, where: string, id: string): StepError {
  const own = b.auth.method !== 'token';
  const policy = own ? knownPolicy(ctx) : null;
  const verdict = policy === null ? null : judgePolicy(policy, b.mount, where.slice(b.mount.length + 1), b.kvVersion);
  const whose = `Airflow's ${own ? `${methodOf(b.auth).title} ` : ''}token`;
  if (verdict && !verdict.grants && verdict.fix) {
    const block = verdict.fix.replace(/\n\s*/g, ' ');
    return new StepError(
      'check',
      `${whose} may not read '${id}' (403 at ${where}): ${verdict.problem}`,
      `put this in ${POLICY_FILE} (or your team's policy) and rerun: ${block}`,
    );
  }
  return new StepError(
    'check',
    `${whose} may not read '${id}' (403 at ${where})`,
    "check the policies on Airflow's token",
  );
}

/** A failed read with Airflow's credentials, explained. */
export async function lookupFailure(
  ctx: FlowContext,
  b: AirflowLookup,
  where: string,
  id: string,
  e: unknown,
): Promise<StepError> {
  if (!(e instanceof VaultError)) return new StepError('check', `Airflow's lookup of '${id}' would fail: ${String(e)}`);
  const tls = describeVaultFailure(e, b.url, b.caFile);
  if (tls) return new StepError('check', `Airflow's lookup of '${id}' would fail: ${tls.problem}`, tls.fix);
  if (e.kind === 'http' && e.status === 403) return refusedRead(ctx, b, where, id);
  return new StepError('check', `Airflow's lookup of '${id}' would fail: ${e.message}`);
}

/** Every variable read with Airflow's token and compared with what was seeded. */
export async function readVariablesAsAirflow(ctx: FlowContext, b: AirflowLookup, client: VaultApi): Promise<void> {
  for (const v of ctx.settings.variables) {
    const path = secretPath(b.variablesPath, v.key);
    let data: Record<string, unknown> | null;
    try {
      data = await client.readSecret(b.mount, path, b.kvVersion);
    } catch (e) {
      throw await lookupFailure(ctx, b, `${b.mount}/${path}`, `variable ${v.key}`, e);
    }
    if (!data)
      throw new StepError(
        'check',
        `Airflow would not find the variable '${v.key}': nothing at ${b.mount}/${path}`,
        'rerun the create command; check variables_path and mount_point in .env',
      );
    if (String(data.value) !== v.value)
      throw new StepError(
        'check',
        `the variable '${v.key}' in Vault differs from the one seeded`,
        'rerun with --force to reseed',
      );
  }
}
