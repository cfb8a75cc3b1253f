/**
 * The auth methods the tool knows. Adding one (kubernetes, userpass) is a file like approle.ts
 * plus its case here.
 */
import { approleAuth, approleFromKwargs, type AppRoleAuthSpec } from './approle.js';
import { tokenAuth, tokenFromKwargs, type TokenAuthSpec } from './token.js';
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

/** How the provider would log in with these VaultBackend kwargs (and env), or what is wrong with them. */
export function authFromKwargs(kw: Record<string, unknown>, env: Map<string, string> = new Map()): AuthSpec | string {
  const type = kw.auth_type ?? 'token';
  switch (type) {
    case 'token':
      return tokenFromKwargs(kw, env);
    case 'approle':
      return approleFromKwargs(kw);
    default:
      return `auth_type '${String(type)}' is not one this tool can check (it knows ${AUTH_METHODS.join(', ')})`;
  }
}

/** A client for `client`'s server logged in with `auth`. */
export async function loggedIn(client: VaultClient, auth: Auth): Promise<VaultClient> {
  const { token } = await auth.login(client);
  return client.withToken(token);
}
