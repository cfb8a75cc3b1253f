/**
 * Step 6b (--auth approle): what a production Vault admin would do for Airflow, on the sandbox
 * server: enable AppRole, write a policy that may only read the connections and variables paths,
 * bind a role to it, and hand Airflow that role's role_id and a secret_id. The root token never
 * reaches Airflow's env. A policy.hcl the user edited is what gets written, so a team's own policy
 * can be rehearsed: the check then says what it lets Airflow read.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { StepError } from '../errors.js';
import { readWrittenRecord, recordedHashes, sha256 } from '../io/write.js';
import { POLICY_READ, readUserFileIfExists } from '../io/read.js';
import { EnvFileError, readBackendWithEnvFile, type BackendKwargs } from '../airflow/backend/index.js';
import { renderPolicy } from '../vault/auth/policy.js';
import { authFor, DEFAULT_APPROLE_MOUNT } from '../vault/auth/index.js';
import { formatTtl } from '../vault/auth/ttl.js';
import { VaultError, type VaultClient } from '../vault/client.js';
import type { Settings } from '../settings.js';
import { registerSecret } from '../ui/mask.js';
import type { SandboxPaths } from '../sandbox/index.js';
import type { CreateContext } from './context.js';

export { POLICY_FILE, POLICY_NAME, ROLE_NAME } from './approle-names.js';
import { POLICY_FILE, POLICY_NAME, ROLE_NAME } from './approle-names.js';

/**
 * The policy to write: policy.hcl when the user edited it (and no --force), else the generated one.
 * A policy.hcl the tool wrote and nobody touched follows the settings (a changed mount or path).
 */
export function policyToWrite(s: Settings, paths: SandboxPaths): { text: string; source: 'generated' | 'policy.hcl' } {
  const generated = renderPolicy(s);
  const file = paths.policy;
  if (s.force) return { text: generated, source: 'generated' };
  const text = readUserFileIfExists(file, POLICY_READ);
  if (text === null) return { text: generated, source: 'generated' };
  const recorded = recordedHashes(readWrittenRecord(paths.written), relative(paths.dir, file));
  if (text === generated || recorded.includes(sha256(text))) return { text: generated, source: 'generated' };
  return { text, source: 'policy.hcl' };
}

/** The approle credentials the current .env gives Airflow, if any. */
async function currentCredentials(
  envFile: string,
  version: string,
): Promise<{ roleId: string; secretId: string } | null> {
  if (!existsSync(envFile)) return null;
  let kw: BackendKwargs;
  try {
    kw = (await readBackendWithEnvFile(envFile, { version })).read.settings.kwargs;
  } catch (e) {
    // A .env bash cannot finish sourcing gives no credentials to keep: a new secret_id.
    if (e instanceof EnvFileError) return null;
    throw e;
  }
  if (kw.auth_type === 'approle' && kw.role_id && kw.secret_id) return { roleId: kw.role_id, secretId: kw.secret_id };
  return null;
}

export function planApprole(ctx: CreateContext): string[] {
  const s = ctx.settings;
  const p = policyToWrite(s, ctx.paths);
  return [
    `would enable AppRole at auth/${DEFAULT_APPROLE_MOUNT}/ and write the policy ${POLICY_NAME} (${p.source === 'policy.hcl' ? 'your edited policy.hcl' : 'read-only on the connections and variables paths'})`,
    `would bind the role ${ROLE_NAME} to it, with a secret_id valid for ${formatTtl(s.secretIdTtl)}`,
  ];
}

/**
 * The secret_id from .env when it still logs in and its TTL has not run out, else undefined (said
 * aloud). The TTL is asked apart from the login: Vault still accepts a secret_id past its TTL until
 * its periodic tidy removes it, so one kept by the login alone would stop working soon after.
 */
async function stillValid(
  ctx: CreateContext,
  client: VaultClient,
  roleId: string,
  secretId: string,
): Promise<string | undefined> {
  try {
    await authFor({ method: 'approle', roleId, secretId }).login(client.withToken(''));
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    ctx.report.info('the secret_id in .env no longer logs in: making a new one');
    return undefined;
  }
  const expiry = await client.secretIdExpiry(DEFAULT_APPROLE_MOUNT, ROLE_NAME, secretId);
  if (expiry instanceof Date && expiry.getTime() <= Date.now()) {
    ctx.report.info(
      'the secret_id in .env is past its TTL (the server accepts it only until it tidies it away): making a new one',
    );
    return undefined;
  }
  return secretId;
}

export async function setupApprole(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  const client = ctx.client!;
  const policy = policyToWrite(s, ctx.paths);
  let roleId: string;
  try {
    if (await client.enableAuthMethod(DEFAULT_APPROLE_MOUNT, 'approle'))
      ctx.report.info(`enabled AppRole at auth/${DEFAULT_APPROLE_MOUNT}/`);
    await client.writePolicy(POLICY_NAME, policy.text);
    await client.writeAppRole(DEFAULT_APPROLE_MOUNT, ROLE_NAME, {
      tokenPolicies: [POLICY_NAME],
      secretIdTtl: s.secretIdTtl,
    });
    roleId = await client.readRoleId(DEFAULT_APPROLE_MOUNT, ROLE_NAME);
  } catch (e) {
    throw new StepError(
      'approle',
      `setting up AppRole failed: ${(e as Error).message}`,
      `rerun; the tool needs its root token for this (see ${ctx.paths.serverOut})`,
    );
  }
  ctx.policy = { name: POLICY_NAME, ...policy };
  if (policy.source === 'policy.hcl')
    ctx.report.warn(
      `wrote your edited ${POLICY_FILE} as the policy ${POLICY_NAME} (--force goes back to the generated one)`,
    );

  // A secret_id that still logs in and is within its TTL is kept (a rerun changes nothing); a new TTL asks for a new one.
  const current = await currentCredentials(ctx.paths.env, ctx.airflow?.version ?? s.airflowVersion);
  let secretId: string | undefined;
  let ttl = s.secretIdTtl;
  if (current && current.roleId === roleId && s.source.secretIdTtl !== 'flag') {
    secretId = await stillValid(ctx, client, roleId, current.secretId);
  }
  if (!secretId) {
    try {
      ({ secretId, ttl } = await client.generateSecretId(DEFAULT_APPROLE_MOUNT, ROLE_NAME));
    } catch (e) {
      throw new StepError('approle', `generating a secret_id failed: ${(e as Error).message}`);
    }
  }
  registerSecret(secretId);
  ctx.airflowAuth = { method: 'approle', roleId, secretId };
  // The server caps a TTL at its max_lease_ttl (768h on a dev server): say what it gave, not what was asked.
  const capped =
    s.secretIdTtl !== ttl ? ` (the server's maximum; --secret-id-ttl asked ${formatTtl(s.secretIdTtl)})` : '';
  ctx.report.info(`role ${ROLE_NAME} (policy ${POLICY_NAME}), secret_id valid for ${formatTtl(ttl)}${capped}`);
}
