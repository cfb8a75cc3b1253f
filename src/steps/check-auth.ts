/**
 * The Vault-level check's login and its explanations when Airflow's own credentials are in play
 * (AppRole, a CA, a namespace): log in as the provider does, and turn a refusal into the broken
 * link and its fix (a secret_id that expired, a policy without the data/ segment, a CA not trusted).
 */
import { POLICY_READ, readUserFileIfExists } from '../io/read.js';
import { StepError } from '../errors.js';
import { secretPath } from '../airflow/backend/index.js';
import { authFor, AuthError } from '../vault/auth/index.js';
import { judgePolicy } from '../vault/auth/policy.js';
import { formatTtl } from '../vault/auth/ttl.js';
import { VaultClient, VaultError } from '../vault/client.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import { POLICY_FILE } from './approle.js';
import type { AirflowLookup } from './check.js';
import type { CreateContext } from './context.js';

export async function loginAsAirflow(ctx: CreateContext, b: AirflowLookup): Promise<VaultClient> {
  const base = new VaultClient({ url: b.url, caFile: b.caFile, namespace: b.namespace });
  const auth = authFor(b.auth);
  try {
    return base.withToken((await auth.login(base)).token);
  } catch (e) {
    if (e instanceof AuthError)
      throw new StepError(
        'check',
        `Airflow could not log in: ${e.message}`,
        'fix token_path in .env, or rerun with --force to rewrite .env',
      );
    if (!(e instanceof VaultError)) throw e;
    const tls = describeVaultFailure(e, b.url, b.caFile);
    if (tls) throw new StepError('check', `Airflow could not reach Vault: ${tls.problem}`, tls.fix);
    if (b.auth.method === 'approle' && e.kind === 'http' && (e.status === 400 || e.status === 403)) {
      const ttl =
        ctx.settings.auth === 'approle'
          ? ` (this sandbox gives secret_ids ${formatTtl(ctx.settings.secretIdTtl)})`
          : '';
      throw new StepError(
        'check',
        `Airflow's AppRole login was refused (${e.status}): the secret_id is wrong, expired or used up${ttl}, or the role_id names no role`,
        'rerun the create command: it makes a new secret_id when the one in .env no longer logs in (--secret-id-ttl sets how long it lives)',
      );
    }
    throw new StepError('check', `Airflow's login to Vault failed: ${e.message}`);
  }
}

/** The policy Airflow's token carries, as far as the tool can know it: the one written this run, else policy.hcl. */
function knownPolicy(ctx: CreateContext): string | null {
  if (ctx.policy) return ctx.policy.text;
  const f = ctx.paths.policy;
  return readUserFileIfExists(f, POLICY_READ);
}

/** A failed read with Airflow's credentials, explained: the policy's flaw and the block that fixes it. */
export async function lookupFailure(
  ctx: CreateContext,
  b: AirflowLookup,
  where: string,
  id: string,
  e: unknown,
): Promise<StepError> {
  if (!(e instanceof VaultError)) return new StepError('check', `Airflow's lookup of '${id}' would fail: ${String(e)}`);
  const tls = describeVaultFailure(e, b.url, b.caFile);
  if (tls) return new StepError('check', `Airflow's lookup of '${id}' would fail: ${tls.problem}`, tls.fix);
  if (e.kind === 'http' && e.status === 403) {
    const policy = b.auth.method === 'approle' ? knownPolicy(ctx) : null;
    const rel = where.slice(b.mount.length + 1);
    const verdict = policy === null ? null : judgePolicy(policy, b.mount, rel, b.kvVersion);
    if (verdict && !verdict.grants) {
      return new StepError(
        'check',
        `Airflow's AppRole token may not read '${id}' (403 at ${where}): ${verdict.problem}`,
        `put this in ${POLICY_FILE} (or your team's policy) and rerun: ${verdict.fix!.replace(/\n\s*/g, ' ')}`,
      );
    }
    return new StepError(
      'check',
      `Airflow's ${b.auth.method === 'approle' ? 'AppRole ' : ''}token may not read '${id}' (403 at ${where})`,
      "check the policies on Airflow's token",
    );
  }
  return new StepError('check', `Airflow's lookup of '${id}' would fail: ${e.message}`);
}

/** Every variable read with Airflow's token and compared with what was seeded. */
export async function readVariablesAsAirflow(ctx: CreateContext, b: AirflowLookup, client: VaultClient): Promise<void> {
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

/**
 * An existing Vault without --seed: what is already there is checked, not what a config says. The
 * ids are listed under the paths with the tool's token (Airflow's own may only read), plus any the
 * settings name; each is read with Airflow's token and built as VaultBackend builds it.
 */
export async function checkExisting(
  ctx: CreateContext,
  b: AirflowLookup,
  airflowClient: VaultClient,
  build: (id: string, data: Record<string, unknown>) => string,
): Promise<void> {
  const s = ctx.settings;
  const lister = ctx.client ?? airflowClient;
  const listed = async (base: string) => {
    try {
      return (await lister.listSecrets(b.mount, base, b.kvVersion)).filter((k) => !k.endsWith('/'));
    } catch (e) {
      ctx.report.warn(
        `cannot list ${b.mount}/${base}/ (${(e as Error).message}); checking only the ids the settings name`,
      );
      return [];
    }
  };
  const connIds = [...new Set([...(await listed(b.connectionsPath)), ...s.connections.map((c) => c.id)])];
  const varKeys = [...new Set([...(await listed(b.variablesPath)), ...s.variables.map((v) => v.key)])];
  if (!connIds.length && !varKeys.length) {
    ctx.report.warn(
      `no connections or variables under ${b.mount}/${b.connectionsPath}/ or ${b.mount}/${b.variablesPath}/ on ${b.url}: nothing to check`,
    );
    return;
  }
  for (const [kind, base, ids] of [
    ['connection', b.connectionsPath, connIds],
    ['variable', b.variablesPath, varKeys],
  ] as const) {
    for (const id of ids) {
      const path = secretPath(base, id);
      let data: Record<string, unknown> | null;
      try {
        data = await airflowClient.readSecret(b.mount, path, b.kvVersion);
      } catch (e) {
        throw await lookupFailure(ctx, b, `${b.mount}/${path}`, kind === 'connection' ? id : `variable ${id}`, e);
      }
      if (!data)
        throw new StepError('check', `Airflow would not find the ${kind} '${id}': nothing at ${b.mount}/${path}`);
      if (kind === 'variable') {
        if (!('value' in data))
          throw new StepError(
            'check',
            `the variable '${id}' at ${b.mount}/${path} has no "value" key; VaultBackend returns nothing for it`,
            `store it as value=<text>`,
          );
        ctx.report.info(`variable ${id}: found`);
        continue;
      }
      let line: string;
      try {
        line = build(id, data);
      } catch (e) {
        throw new StepError(
          'check',
          `Airflow could not build the connection '${id}' from ${b.mount}/${path}: ${(e as Error).message}`,
        );
      }
      ctx.checks.push({ id, ok: true, line, mismatched: [] });
      ctx.report.info(line);
    }
  }
}
