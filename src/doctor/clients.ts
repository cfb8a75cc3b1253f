/**
 * The clients doctor asks Vault with, so that its own questions never spend what Airflow needs:
 * the sandbox server's own token for what any token could see (mounts, whether a secret exists,
 * policies), only when Airflow talks to that very server; Airflow's token for what only Airflow's
 * rights can tell, only when no use limit makes every request count.
 */
import { existsSync } from 'node:fs';
import type { VaultAccess } from '../airflow/backend/index.js';
import type { Sandbox } from '../sandbox/index.js';
import type { VaultClient } from '../vault/client.js';
import { limitedUses } from './token-lookup.js';
import { airflowClient, type CheckInput } from './types.js';

type Input = CheckInput<'address'> & Partial<CheckInput<'token'>>;

/** The sandbox server's own client, in Airflow's namespace, when Airflow talks to that server. */
export function serverClient(ctx: Input): VaultClient | undefined {
  if (!ctx.serverToken || !ctx.serverUrl) return undefined;
  try {
    if (new URL(ctx.serverUrl).origin !== ctx.url.origin) return undefined;
  } catch {
    return undefined;
  }
  return airflowClient(ctx, ctx.serverToken);
}

/** Airflow's own client (its token after its login), unless its uses are limited or unknown. */
export function airflowsClient(ctx: Input): VaultClient | undefined {
  const token = ctx.login?.token;
  if (!token || limitedUses(ctx.login?.lookup) !== undefined) return undefined;
  return airflowClient(ctx, token);
}

/**
 * The CA doctor's own requests verify with: the one Airflow's requests use, else (verify false:
 * Airflow checks nothing) the one the user's environment or the sandbox names, so that doctor still
 * reaches the server Airflow reaches. Doctor itself never skips verification.
 */
export function doctorsCaFile(
  access: Pick<VaultAccess, 'verify' | 'caBundleFromEnv'>,
  env: Map<string, string>,
  sandbox: Pick<Sandbox, 'paths'> | undefined,
): string | undefined {
  if (typeof access.verify === 'string') return access.verify;
  if (access.verify !== false) return access.caBundleFromEnv;
  return [access.caBundleFromEnv, env.get('VAULT_CACERT'), env.get('BAO_CACERT'), sandbox?.paths.caFile].find(
    (f): f is string => !!f && existsSync(f),
  );
}
