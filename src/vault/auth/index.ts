/**
 * The auth methods the tool knows, one file each. Adding one is its file, its test and one line in
 * METHODS: the settings schema's choices, the wizard's question, doctor's login check, the create
 * flow's set-up, placeholders and check all come from here.
 */
import type { VaultApi } from '../api.js';
import { approle } from './approle.js';
import { token } from './token.js';
import { userpass } from './userpass.js';
import type { Auth, AuthMethod, AuthSpecBase } from './types.js';

export { AuthError } from './types.js';
export type { Auth, AuthMethod, Refusal, SandboxAuthInput } from './types.js';
export { DEFAULT_APPROLE_MOUNT, type AppRoleAuthSpec } from './approle.js';
export type { TokenAuthSpec } from './token.js';

/** In the order --help and the wizard list them; the first is the default. */
const METHODS = [token, approle, userpass] as const;

type SpecOf<M> = M extends AuthMethod<infer S> ? S : never;
export type AuthSpec = SpecOf<(typeof METHODS)[number]>;
export type AuthMethodName = AuthSpec['method'];

export const AUTH_METHODS: readonly AuthMethod<AuthSpec>[] = METHODS;
export const AUTH_METHOD_NAMES: readonly AuthMethodName[] = METHODS.map((m) => m.name);

export function isAuthMethodName(v: unknown): v is AuthMethodName {
  return typeof v === 'string' && (AUTH_METHOD_NAMES as readonly string[]).includes(v);
}

/** The method a spec (or a name) belongs to. */
export function methodOf(spec: AuthSpecBase | AuthMethodName): AuthMethod<AuthSpec> {
  const name = typeof spec === 'string' ? spec : spec.method;
  const m = AUTH_METHODS.find((x) => x.name === name);
  if (!m) throw new Error(`no auth method '${name}'`);
  return m;
}

/** A spec with its method's behaviour bound to it. */
export function authFor(spec: AuthSpec): Auth {
  const m = methodOf(spec);
  return {
    method: spec.method,
    login: (api) => m.login(api, spec),
    backendKwargs: () => m.kwargs(spec),
    describe: () => m.describe(spec),
  };
}

/** How the provider would log in with these VaultBackend kwargs (and env), or what is wrong with them. */
export function authFromKwargs(
  kw: Readonly<Record<string, unknown>>,
  env: ReadonlyMap<string, string> = new Map(),
): AuthSpec | string {
  const type = kw.auth_type ?? 'token';
  if (!isAuthMethodName(type))
    return `auth_type '${String(type)}' is not one this tool can check (it knows ${AUTH_METHOD_NAMES.join(', ')})`;
  return methodOf(type).fromKwargs(kw, env);
}

/** The kwargs of a spec that hold secrets, as values (for the redactor). */
export function secretsOf(spec: AuthSpec): string[] {
  const kw = methodOf(spec).kwargs(spec);
  return methodOf(spec)
    .secretKwargs.map((k) => kw[k])
    .filter((v): v is string => typeof v === 'string' && v !== '');
}

/** A client for `client`'s server logged in with `auth`. */
export async function loggedIn(client: VaultApi, auth: Auth): Promise<VaultApi> {
  const { token } = await auth.login(client);
  return client.withToken(token);
}
