/**
 * Steps 3-4 for an existing Vault (--vault-url): nothing is started. Check that it answers, as
 * Airflow will reach it (CA, namespace), and log the tool in with the user's token (or, without
 * one, with Airflow's AppRole).
 */
import { StepError } from '../errors.js';
import { clientFor, describeTarget, existingTarget, writeTargetRecord } from '../target/index.js';
import { authFor, AuthError } from '../vault/auth/index.js';
import { HEALTH_STATUS, VaultError } from '../vault/client.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import type { CreateContext } from './context.js';

export function planAttach(ctx: CreateContext): string[] {
  const e = ctx.settings.existing!;
  return [
    `would use ${describeTarget(existingTarget(e.url, e))}: nothing started, nothing mounted${e.seed ? '' : ', nothing written there'}`,
  ];
}

export async function attach(ctx: CreateContext): Promise<void> {
  const e = ctx.settings.existing!;
  const target = existingTarget(e.url, { caFile: e.caFile, namespace: e.namespace });
  ctx.target = target;
  const base = clientFor(target, undefined, 10_000);
  try {
    const h = await base.health();
    // 429 (standby) and 473 (performance standby) still serve reads.
    if (h.status !== 200 && h.status !== 429 && h.status !== 473) {
      throw new StepError(
        'connect',
        `${e.url} answers health with ${h.status}: it is ${HEALTH_STATUS[h.status] ?? 'in an unknown state'}`,
        'ask whoever runs that Vault; this tool does not unseal or initialise it',
      );
    }
  } catch (err) {
    if (err instanceof StepError) throw err;
    if (!(err instanceof VaultError)) throw err;
    const tls = describeVaultFailure(err, e.url, e.caFile);
    throw new StepError(
      'connect',
      `cannot reach ${e.url}: ${tls?.problem ?? err.message}`,
      tls?.fix ?? 'check --vault-url and that the server is up',
    );
  }
  const auth = e.toolAuth ?? e.airflowAuth;
  try {
    const login = await authFor(auth).login(base);
    ctx.client = base.withToken(login.token);
    await ctx.client.lookupSelf();
  } catch (err) {
    if (err instanceof AuthError) throw new StepError('connect', err.message, 'fix --token-file');
    const status = (err as VaultError).status;
    throw new StepError(
      'connect',
      `${e.url} refuses ${e.toolAuth ? e.tokenSource : 'the AppRole in VAULT_ROLE_ID/VAULT_SECRET_ID'} (${(err as Error).message})`,
      status === 403
        ? `use a token that server knows${e.namespace ? ` in namespace ${e.namespace}` : ' (and --namespace if it lives in one)'}`
        : undefined,
    );
  }
  ctx.airflowAuth = e.airflowAuth;
  writeTargetRecord(ctx.paths.target, target);
  ctx.report.info(`${describeTarget(target)}: logged in with ${e.toolAuth ? e.tokenSource : 'the AppRole'}`);
}
