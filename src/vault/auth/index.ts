/**
 * The auth methods the tool knows. Adding one (kubernetes, userpass) is a file like approle.ts
 * plus its case here.
 */
import { approleAuth, type AppRoleAuthSpec } from './approle.js';
import { tokenAuth, type TokenAuthSpec } from './token.js';
import type { Auth } from './types.js';
import type { VaultClient } from '../client.js';

export type { Auth } from './types.js';
export { AuthError } from './types.js';
export { DEFAULT_APPROLE_MOUNT } from './approle.js';
export type { AppRoleAuthSpec } from './approle.js';
export type { TokenAuthSpec } from './token.js';

export type AuthSpec = TokenAuthSpec | AppRoleAuthSpec;
export type AuthMethod = AuthSpec['method'];
export const AUTH_METHODS: readonly AuthMethod[] = ['token', 'approle'];

export function authFor(spec: AuthSpec): Auth {
  switch (spec.method) {
    case 'token':
      return tokenAuth(spec);
    case 'approle':
      return approleAuth(spec);
  }
}

/** A client for `client`'s server logged in with `auth`. */
export async function loggedIn(client: VaultClient, auth: Auth): Promise<VaultClient> {
  const { token } = await auth.login(client);
  return client.withToken(token);
}
