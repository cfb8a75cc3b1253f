/**
 * AppRole auth, logged in exactly as the provider's `_auth_approle` does through hvac:
 * POST /v1/auth/<auth_mount_point or "approle">/login with {role_id, secret_id}. On a sandbox
 * server it does what a Vault admin would do for Airflow: enable AppRole, bind a role to the
 * read-only policy, and hand Airflow the role's role_id and a secret_id.
 */
import type { VaultApi } from '../api.js';
import { VaultError } from '../api.js';
import { formatTtl } from './ttl.js';
import type { AuthMethod, SandboxAuthInput } from './types.js';

export const DEFAULT_APPROLE_MOUNT = 'approle';
/** The role the sandbox binds Airflow to. */
export const ROLE_NAME = 'airflow';

export interface AppRoleAuthSpec {
  method: 'approle';
  roleId: string;
  secretId: string;
  /** Where AppRole is enabled; the provider's `auth_mount_point`. */
  mount?: string;
}

const mountOf = (spec: AppRoleAuthSpec) => spec.mount || DEFAULT_APPROLE_MOUNT;
/** What a login where no AppRole is enabled gets: 403 (no handler lets it through), 404 or 405 on older servers. */
const NOT_ENABLED = new Set([403, 404, 405]);

const PAST_TTL =
  'the secret_id in .env is past its TTL (the server accepts it only until it tidies it away): making a new one';

/**
 * The secret_id the .env holds for this role when it still logs in and its TTL has not run out,
 * else undefined (said aloud). The TTL is asked apart from the login: Vault still accepts a
 * secret_id past its TTL until its periodic tidy removes it, so one kept by the login alone would
 * stop working soon after.
 */
async function keptSecretId(api: VaultApi, roleId: string, input: SandboxAuthInput): Promise<string | undefined> {
  const kw = input.current;
  if (input.ttl.renew || kw.auth_type !== 'approle' || kw.role_id !== roleId) return undefined;
  if (typeof kw.secret_id !== 'string' || !kw.secret_id) return undefined;
  try {
    await api.withToken('').approleLogin(roleId, kw.secret_id, DEFAULT_APPROLE_MOUNT);
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    input.say('the secret_id in .env no longer logs in: making a new one');
    return undefined;
  }
  const expiry = await api.secretIdExpiry(DEFAULT_APPROLE_MOUNT, ROLE_NAME, kw.secret_id);
  if (expiry instanceof Date && expiry.getTime() <= input.now()) {
    input.say(PAST_TTL);
    return undefined;
  }
  return kw.secret_id;
}

export const approle: AuthMethod<AppRoleAuthSpec> = {
  name: 'approle',
  title: 'AppRole',
  brief: 'a role with a read-only policy, as in production',
  choice: 'Airflow logs in as a role that may only read its paths, as in production (writes policy.hcl)',
  doc: 'the tool enables AppRole, creates a role bound to the policy, and gives Airflow `auth_type: approle` with its `role_id` and a `secret_id` (valid for `--secret-id-ttl`)',
  secretKwargs: ['secret_id'],
  needs: '"role_id" and "secret_id" (vault read auth/approle/role/<role>/role-id gives the role_id)',
  placeholders: { auth_type: 'approle', role_id: '<role_id>', secret_id: '<secret_id>' },
  /** The provider's keys: `role_id` (required, as `_VaultClient` insists), `secret_id`, `auth_mount_point`. */
  fromKwargs(kw) {
    if (typeof kw.role_id !== 'string' || !kw.role_id)
      return 'auth_type is approle but the kwargs have no role_id (the provider refuses to start)';
    if (typeof kw.secret_id !== 'string' || !kw.secret_id)
      return 'auth_type is approle but the kwargs have no secret_id';
    const spec: AppRoleAuthSpec = { method: 'approle', roleId: kw.role_id, secretId: kw.secret_id };
    if (typeof kw.auth_mount_point === 'string' && kw.auth_mount_point) spec.mount = kw.auth_mount_point;
    return spec;
  },
  fromEnv(env) {
    const roleId = env.VAULT_ROLE_ID?.trim();
    const secretId = env.VAULT_SECRET_ID?.trim();
    if (!roleId || !secretId) return "the role's credentials: export VAULT_ROLE_ID and VAULT_SECRET_ID";
    return { method: 'approle', roleId, secretId };
  },
  kwargs(spec) {
    const kw: Record<string, unknown> = { auth_type: 'approle', role_id: spec.roleId, secret_id: spec.secretId };
    // Only when it differs: hvac's default mount is the same "approle".
    if (mountOf(spec) !== DEFAULT_APPROLE_MOUNT) kw.auth_mount_point = mountOf(spec);
    return kw;
  },
  login: (api, spec) => api.approleLogin(spec.roleId, spec.secretId, mountOf(spec)),
  describe: (spec) => `AppRole login at auth/${mountOf(spec)}`,
  explainRefusal(e, spec, rerun) {
    const mount = mountOf(spec);
    if (e.status !== undefined && NOT_ENABLED.has(e.status))
      return {
        why: `no AppRole auth method at auth/${mount}`,
        fix: 'vault auth enable approle, or set "auth_mount_point" to where AppRole is enabled',
      };
    return {
      why: e.status === 400 ? 'role_id or secret_id is wrong (or the secret_id expired or was used up)' : e.message,
      fix: rerun
        ? `${rerun} makes a new secret_id and rewrites .env`
        : 'vault write -f auth/approle/role/<role>/secret-id gives a new secret_id; put it in the kwargs',
    };
  },
  sandbox: {
    plan: ({ policy, ttl }) => [
      `would enable AppRole at auth/${DEFAULT_APPROLE_MOUNT}/ and bind the role ${ROLE_NAME} to the policy ${policy}`,
      `with a secret_id valid for ${formatTtl(ttl.seconds)}`,
    ],
    async setUp(api, input) {
      if (await api.enableAuthMethod(DEFAULT_APPROLE_MOUNT, 'approle'))
        input.say(`enabled AppRole at auth/${DEFAULT_APPROLE_MOUNT}/`);
      await api.writeAppRole(DEFAULT_APPROLE_MOUNT, ROLE_NAME, {
        tokenPolicies: [input.policy],
        secretIdTtl: input.ttl.seconds,
      });
      const roleId = await api.readRoleId(DEFAULT_APPROLE_MOUNT, ROLE_NAME);
      // A secret_id that still logs in is kept (a rerun changes nothing); a new TTL asks for a new one.
      const kept = await keptSecretId(api, roleId, input);
      const made = kept ? undefined : await api.generateSecretId(DEFAULT_APPROLE_MOUNT, ROLE_NAME);
      const secretId = kept ?? made?.secretId ?? '';
      // The server caps a TTL at its max_lease_ttl (768h on a dev server): say what it gave, not what was asked.
      const ttl = made?.ttl ?? input.ttl.seconds;
      const capped = ttl !== input.ttl.seconds ? ` (the server's maximum; asked ${formatTtl(input.ttl.seconds)})` : '';
      input.say(`role ${ROLE_NAME} (policy ${input.policy}), secret_id valid for ${formatTtl(ttl)}${capped}`);
      return { method: 'approle', roleId, secretId };
    },
    summary: () => `AppRole (role ${ROLE_NAME})`,
    identity: () => ({ role: ROLE_NAME }),
  },
};
