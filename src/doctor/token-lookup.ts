/**
 * The token Airflow would send (token auth), looked up before anything spends it: with the sandbox
 * server's own token when Airflow talks to that server (`auth/token/lookup` spends none of the
 * token's uses), else with the token itself (`lookup-self`, one use). A token limited in uses is
 * then named, never spent: neither doctor nor the Airflow it asks reads with it.
 */
import { describeSource, type BackendRead, type VaultAccess } from '../airflow/backend/index.js';
import { authFromKwargs } from '../vault/auth/index.js';
import { type TokenInfo, VaultClient, VaultError } from '../vault/client.js';
import { FileError } from '../errors.js';
import { MAX_TOKEN_BYTES, readUserFile } from '../io/read.js';

export type TokenSource = { kind: 'kwarg'; key: 'token' | 'token_path' } | { kind: 'env'; name: 'VAULT_TOKEN' };

export interface TokenLookup {
  /** Where the token came from, for messages: "token_path /x (AIRFLOW__SECRETS__BACKEND_KWARGS in ./.env)". */
  from: string;
  source: TokenSource;
  /** The token, when it could be read (a token_path that cannot be read has none). */
  token?: string;
  /** Why there is no token to send (token_path missing, empty, a FIFO). */
  unreadable?: string;
  via?: 'server-token' | 'lookup-self';
  /** What the server says the token is. */
  info?: TokenInfo;
  /** The server answered, and refused the lookup (unknown, expired or revoked token). */
  refused?: VaultError;
  /** No answer from the server (the address, TLS and reachability checks say why). */
  unanswered?: VaultError;
}

/** A token that may be used only so many more times: spending one for a diagnosis changes what is diagnosed. */
export function limitedUses(l: TokenLookup | undefined): number | undefined {
  const n = l?.info?.numUses;
  return n !== undefined && n !== 0 ? Math.max(n, 0) : undefined;
}

function origin(read: BackendRead, env: { envFileKeys: ReadonlySet<string>; envFile?: string }, s: TokenSource) {
  if (s.kind === 'env')
    return env.envFileKeys.has('VAULT_TOKEN') && env.envFile
      ? `VAULT_TOKEN in ${env.envFile}`
      : 'VAULT_TOKEN from your shell';
  const src = read.keySources[s.key];
  return src ? `the ${s.key} kwarg (${describeSource(src)})` : `the ${s.key} kwarg`;
}

/** The token Airflow's token auth sends, and where it came from; undefined for another auth_type or no token. */
export function airflowToken(
  read: BackendRead,
  env: { env: Map<string, string>; envFileKeys: ReadonlySet<string>; envFile?: string },
): TokenLookup | undefined {
  const kw = read.kwargs;
  if ((kw.auth_type ?? 'token') !== 'token') return undefined;
  const spec = authFromKwargs(kw, env.env);
  if (typeof spec === 'string' || spec.method !== 'token') return undefined;
  if ('tokenPath' in spec) {
    const source: TokenSource = { kind: 'kwarg', key: 'token_path' };
    const from = origin(read, env, source);
    try {
      const token = readUserFile(spec.tokenPath, { what: 'token_path', maxBytes: MAX_TOKEN_BYTES }).trim();
      return token
        ? { from: `${from}, ${spec.tokenPath}`, source, token }
        : { from, source, unreadable: `token_path ${spec.tokenPath} is empty` };
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      return { from, source, unreadable: `token_path ${spec.tokenPath} ${e.problem}` };
    }
  }
  const source: TokenSource =
    typeof kw.token === 'string' && kw.token ? { kind: 'kwarg', key: 'token' } : { kind: 'env', name: 'VAULT_TOKEN' };
  return { from: origin(read, env, source), source, token: spec.token };
}

/**
 * Looks the token up, spending none of its uses when the sandbox server's own token can ask
 * (`serverToken`, only when Airflow talks to that very server), else one (lookup-self).
 */
export async function lookUpToken(
  t: TokenLookup,
  access: VaultAccess,
  admin: { url: string; token: string } | undefined,
  caFile: string | undefined,
): Promise<TokenLookup> {
  if (!t.token) return t;
  const client = new VaultClient({ url: access.url, timeoutMs: 5000, caFile, namespace: access.namespace });
  const byServer = admin !== undefined && sameOrigin(admin.url, access.url);
  try {
    const info = byServer
      ? await client.withToken(admin.token).lookupToken(t.token)
      : await client.withToken(t.token).lookupSelf();
    return { ...t, via: byServer ? 'server-token' : 'lookup-self', info };
  } catch (e) {
    if (!(e instanceof VaultError)) throw e;
    const via = byServer ? 'server-token' : 'lookup-self';
    return e.kind === 'http' ? { ...t, via, refused: e } : { ...t, via, unanswered: e };
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
