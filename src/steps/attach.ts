/**
 * Steps 3-4 for an existing Vault (--vault-url): nothing is started. Check that it answers, as
 * Airflow will reach it (CA, namespace), and log the tool in with the user's token (or, without
 * one, with Airflow's AppRole).
 */
import { StepError } from '../errors.js';
import type { ExistingVaultSettings } from '../target/settings.js';
import { describeTarget, existingTarget, type Target, writeTargetRecord } from '../target/index.js';
import { authFor, AuthError } from '../vault/auth/index.js';
import { HEALTH_STATUS, type VaultApi, VaultError } from '../vault/api.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import { defineStep, type FlowContext, type Produced } from './context.js';

function planAttach(e: ExistingVaultSettings): string[] {
  const written = e.seed ? '' : ', nothing written there';
  return [`would use ${describeTarget(existingTarget(e.url, e))}: nothing started, nothing mounted${written}`];
}

/**
 * Vault's Community Edition has no namespaces and ignores X-Vault-Namespace: every request, the
 * tool's and Airflow's, would go to the root namespace while the settings name another. OpenBao
 * (which has namespaces) and Vault Enterprise honour it.
 */
function namespaceUnsupported(url: string, namespace: string): StepError {
  return new StepError(
    'connect',
    `${url} is HashiCorp Vault Community Edition (its sys/health says enterprise: false), which has no namespaces: it would ignore namespace '${namespace}' and serve the root namespace to this tool and to Airflow`,
    'drop --namespace to use the root namespace, or point --vault-url at Vault Enterprise or OpenBao, which have namespaces',
  );
}

/** Health first, so a sealed or unreachable server is named before any token is sent. */
async function checkAnswers(e: ExistingVaultSettings, base: VaultApi): Promise<void> {
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
    if (e.namespace && h.body?.enterprise === false) throw namespaceUnsupported(e.url, e.namespace);
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
}

/** The tool's own client there: the user's token, or (without one) Airflow's AppRole. */
async function logIn(e: ExistingVaultSettings, base: VaultApi): Promise<VaultApi> {
  try {
    const login = await authFor(e.toolAuth ?? e.airflowAuth).login(base);
    const client = base.withToken(login.token);
    await client.lookupSelf();
    return client;
  } catch (err) {
    if (err instanceof AuthError) throw new StepError('connect', err.message, 'fix --token-file');
    const who = e.toolAuth ? e.tokenSource : 'the AppRole in VAULT_ROLE_ID/VAULT_SECRET_ID';
    const ns = e.namespace ? ` in namespace ${e.namespace}` : ' (and --namespace if it lives in one)';
    const status = err instanceof VaultError ? err.status : undefined;
    throw new StepError(
      'connect',
      `${e.url} refuses ${who} (${(err as Error).message})`,
      status === 403 ? `use a token that server knows${ns}` : undefined,
    );
  }
}

async function attach(ctx: FlowContext): Promise<Partial<Produced>> {
  const e = ctx.settings.existing;
  if (!e) throw new StepError('connect', 'no existing Vault was named (--vault-url)');
  const target: Target = existingTarget(e.url, { caFile: e.caFile, namespace: e.namespace });
  const base = ctx.services.vault({
    url: target.url,
    caFile: target.caFile,
    namespace: target.namespace,
    timeoutMs: 10_000,
  });
  await checkAnswers(e, base);
  const client = await logIn(e, base);
  writeTargetRecord(ctx.paths.target, target);
  ctx.report.info(`${describeTarget(target)}: logged in with ${e.toolAuth ? e.tokenSource : 'the AppRole'}`);
  return { target, client, airflowAuth: e.airflowAuth };
}

export const attachStep = defineStep({
  title: 'Connect to the existing Vault',
  needs: [],
  plan: (ctx) => ({ lines: ctx.settings.existing ? planAttach(ctx.settings.existing) : [] }),
  run: attach,
  skip: (ctx) => (ctx.settings.existing ? undefined : 'the sandbox runs its own dev server'),
});
