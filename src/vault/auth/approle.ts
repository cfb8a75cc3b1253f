/**
 * AppRole auth, logged in exactly as the provider's `_auth_approle` does through hvac:
 * POST /v1/auth/<auth_mount_point or "approle">/login with {role_id, secret_id}.
 */
import type { LoginResult, VaultClient } from '../client.js';
import type { Auth } from './types.js';

export const DEFAULT_APPROLE_MOUNT = 'approle';

export interface AppRoleAuthSpec {
  method: 'approle';
  roleId: string;
  secretId: string;
  /** Where AppRole is enabled; the provider's `auth_mount_point`. */
  mount?: string;
}

export function approleAuth(spec: AppRoleAuthSpec): Auth {
  const mount = spec.mount || DEFAULT_APPROLE_MOUNT;
  return {
    method: 'approle',
    login(client: VaultClient): Promise<LoginResult> {
      return client.approleLogin(spec.roleId, spec.secretId, mount);
    },
    backendKwargs() {
      const kw: Record<string, unknown> = { auth_type: 'approle', role_id: spec.roleId, secret_id: spec.secretId };
      // Only when it differs: hvac's default mount is the same "approle".
      if (mount !== DEFAULT_APPROLE_MOUNT) kw.auth_mount_point = mount;
      return kw;
    },
    describe() {
      return `AppRole role_id ${spec.roleId} at auth/${mount}`;
    },
  };
}

/** The provider's approle kwargs: `role_id` (required, as `_VaultClient` insists), `secret_id`, `auth_mount_point`. */
export function approleFromKwargs(kw: Record<string, unknown>): AppRoleAuthSpec | string {
  if (typeof kw.role_id !== 'string' || !kw.role_id)
    return 'auth_type is approle but the kwargs have no role_id (the provider refuses to start)';
  if (typeof kw.secret_id !== 'string' || !kw.secret_id) return 'auth_type is approle but the kwargs have no secret_id';
  const spec: AppRoleAuthSpec = { method: 'approle', roleId: kw.role_id, secretId: kw.secret_id };
  if (typeof kw.auth_mount_point === 'string' && kw.auth_mount_point) spec.mount = kw.auth_mount_point;
  return spec;
}
