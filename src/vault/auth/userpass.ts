/**
 * Userpass auth, logged in exactly as the provider's `_auth_userpass` does through hvac:
 * POST /v1/auth/<auth_mount_point or "userpass">/login/<username> with {password}. On a sandbox
 * server it does what a Vault admin would do for Airflow: enable userpass and create a user bound
 * to the read-only policy, with a generated password that only the 0600 env files hold.
 */
import { randomBytes } from 'node:crypto';
import type { AuthMethod } from './types.js';

export const DEFAULT_USERPASS_MOUNT = 'userpass';
/** The user the sandbox creates for Airflow. */
export const USER_NAME = 'airflow';

export interface UserpassAuthSpec {
  method: 'userpass';
  username: string;
  password: string;
  /** Where userpass is enabled; the provider's `auth_mount_point`. */
  mount?: string;
}

const mountOf = (spec: UserpassAuthSpec) => spec.mount || DEFAULT_USERPASS_MOUNT;
/** What a login where no userpass is enabled gets: 403 (no handler lets it through), 404 or 405 on older servers. */
const NOT_ENABLED = new Set([403, 404, 405]);

/**
 * 24 random bytes as base64url: 32 characters of [A-Za-z0-9_-], which bash, docker compose and
 * python-dotenv all read back unquoted the same way.
 */
function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The password the .env gives Airflow's sandbox user, when it has one: kept, so a rerun changes nothing. */
function keptPassword(kw: Readonly<Record<string, unknown>>): string | undefined {
  if (kw.auth_type !== 'userpass' || kw.username !== USER_NAME) return undefined;
  return typeof kw.password === 'string' && kw.password ? kw.password : undefined;
}

export const userpass: AuthMethod<UserpassAuthSpec> = {
  name: 'userpass',
  title: 'userpass',
  brief: 'a user and password under a read-only policy',
  choice: 'Airflow logs in as a user with a password, under a read-only policy (writes policy.hcl)',
  doc: `the tool enables userpass, creates the user \`${USER_NAME}\` with a generated password under the policy, and gives Airflow \`auth_type: userpass\` with its \`username\` and \`password\``,
  secretKwargs: ['password'],
  needs: '"username" and "password"',
  placeholders: { auth_type: 'userpass', username: USER_NAME, password: '<password>' },
  /** The provider's keys: `username` and `password` (hvac sends both, whatever they are), `auth_mount_point`. */
  fromKwargs(kw) {
    if (typeof kw.username !== 'string' || !kw.username) return 'auth_type is userpass but the kwargs have no username';
    if (typeof kw.password !== 'string' || !kw.password) return 'auth_type is userpass but the kwargs have no password';
    const spec: UserpassAuthSpec = { method: 'userpass', username: kw.username, password: kw.password };
    if (typeof kw.auth_mount_point === 'string' && kw.auth_mount_point) spec.mount = kw.auth_mount_point;
    return spec;
  },
  kwargs(spec) {
    const kw: Record<string, unknown> = { auth_type: 'userpass', username: spec.username, password: spec.password };
    // Only when it differs: hvac's default mount is the same "userpass".
    if (mountOf(spec) !== DEFAULT_USERPASS_MOUNT) kw.auth_mount_point = mountOf(spec);
    return kw;
  },
  login: (api, spec) => api.login(`${mountOf(spec)}/login/${spec.username}`, { password: spec.password }),
  describe: (spec) => `userpass login as ${spec.username} at auth/${mountOf(spec)}`,
  explainRefusal(e, spec, rerun) {
    const mount = mountOf(spec);
    if (e.status !== undefined && NOT_ENABLED.has(e.status))
      return {
        why: `no userpass auth method at auth/${mount}`,
        fix: 'vault auth enable userpass, or set "auth_mount_point" to where userpass is enabled',
      };
    return {
      why:
        e.status === 400
          ? `the server knows no user ${spec.username} with that password (a dev server forgets its users when it restarts)`
          : e.message,
      fix: rerun
        ? `${rerun} creates the user again and rewrites .env`
        : `vault write auth/${mount}/users/${spec.username} password=... token_policies=<policy> sets the user up; put its password in the kwargs`,
    };
  },
  sandbox: {
    plan: ({ policy }) => [
      `would enable userpass at auth/${DEFAULT_USERPASS_MOUNT}/ and create the user ${USER_NAME} under the policy ${policy}, with a generated password`,
    ],
    async setUp(api, input) {
      if (await api.enableAuthMethod(DEFAULT_USERPASS_MOUNT, 'userpass'))
        input.say(`enabled userpass at auth/${DEFAULT_USERPASS_MOUNT}/`);
      // A dev server forgets its users when it restarts: the user is written each run, with the password .env holds.
      const kept = keptPassword(input.current);
      const password = kept ?? newPassword();
      await api.write(`auth/${DEFAULT_USERPASS_MOUNT}/users/${USER_NAME}`, {
        password,
        token_policies: [input.policy],
      });
      const which = kept ? 'the password in .env kept' : 'a new password, in .env';
      input.say(`user ${USER_NAME} (policy ${input.policy}), ${which}`);
      return { method: 'userpass', username: USER_NAME, password };
    },
    summary: () => `userpass (user ${USER_NAME})`,
    identity: () => ({ user: USER_NAME }),
  },
};
