/**
 * What the tool asks of a Vault server, as an interface: VaultClient (client.ts) speaks it over
 * HTTP; steps and checks take it injected, so their unit tests run against a fake. The errors and
 * answers are plain data, so a fake throws the same VaultError (kind, status) as the real client.
 */

export type VaultErrorKind =
  | 'refused' // nothing listens there
  | 'scheme' // https spoken to a plain-HTTP server, or the reverse
  | 'timeout'
  | 'reset'
  | 'dns'
  | 'network'
  | 'tls-untrusted' // the server's certificate does not chain to a CA we were told to trust
  | 'tls-hostname' // the certificate is valid but not for the host name in the URL
  | 'tls-expired' // the certificate (or one in its chain) is out of its validity period
  | 'tls' // another TLS failure (see `code`)
  | 'ca-file' // the CA file we were given cannot be read
  | 'not-vault' // something answered over HTTP, but not with Vault's JSON
  | 'http'; // the server answered with an error status

export class VaultError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly kind: VaultErrorKind,
    message: string,
    readonly status?: number,
    readonly vaultErrors: string[] = [],
    /** Node's error code for network and TLS failures (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
    readonly code?: string,
  ) {
    super(`${method} ${path}: ${message}`);
    this.name = 'VaultError';
  }
}

export interface HealthBody {
  initialized?: boolean;
  sealed?: boolean;
  standby?: boolean;
  version?: string;
  cluster_name?: string;
  /** HashiCorp Vault only: false on the Community Edition, which has no namespaces. OpenBao sends none. */
  enterprise?: boolean;
}

export interface TokenInfo {
  policies: string[];
  displayName: string;
  /** Seconds left; 0 for a token that never expires. */
  ttl: number;
  path: string;
  /**
   * Uses left after the request that looked it up: 0 for no limit, -1 when that request was its
   * last (the server revokes it), else how many requests it may still make.
   */
  numUses: number;
  /** The namespace the token belongs to ('' for the root namespace), where the server says (OpenBao, Vault Enterprise). */
  namespacePath?: string;
}

export interface MountInfo {
  path: string;
  type: string;
  /** KV version, 1 or 2, for a `kv` mount; null for other engines. */
  kvVersion: 1 | 2 | null;
}

/** A token's policies merged: capabilities by exact path and by glob prefix (no trailing `*`). */
export interface ResultantAcl {
  exact: Record<string, string[]>;
  glob: Record<string, string[]>;
  /** The root policy: everything is allowed. */
  root: boolean;
}

export interface KvSecret {
  data: Record<string, unknown>;
  version: number;
}

export interface VaultClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8200 */
  url: string;
  token?: string;
  timeoutMs?: number;
  /** A PEM file of the CA(s) to trust for an https url (VAULT_CACERT). */
  caFile?: string;
  /** Sent as X-Vault-Namespace on every request (Vault Enterprise / OpenBao namespaces). */
  namespace?: string;
}

/** What an auth method's login returned: the client token and what it may do. */
export interface LoginResult {
  token: string;
  policies: string[];
  /** Seconds the token lives; 0 for no expiry. */
  ttl: number;
}

export interface AppRoleOptions {
  tokenPolicies: string[];
  /** Seconds a secret_id stays valid (0: no expiry), as `secret_id_ttl`. */
  secretIdTtl?: number;
  /** Seconds a login token lives, as `token_ttl`. */
  tokenTtl?: number;
}

/** Meaning of each /sys/health status code (vault.md §4.1), for messages. */
export const HEALTH_STATUS: Record<number, string> = {
  200: 'initialized, unsealed and active',
  429: 'unsealed but in standby',
  472: 'a disaster-recovery secondary',
  473: 'a performance standby',
  501: 'not initialized',
  503: 'sealed',
};

/** Every request the tool makes to Vault. Errors are VaultError with kind and status. */
export interface VaultApi {
  readonly url: string;
  readonly caFile: string | undefined;
  readonly namespace: string | undefined;
  withToken(token: string): VaultApi;
  /** The same server and token in another namespace (undefined: the root namespace). */
  withNamespace(namespace: string | undefined): VaultApi;
  /** GET sys/health; 429/501/503 are answers, not failures. */
  health(): Promise<{ status: number; body: HealthBody | null }>;
  lookupSelf(): Promise<TokenInfo>;
  /** The mount that serves `path`; null when nothing is mounted there. */
  mountInfo(path: string): Promise<MountInfo | null>;
  enableKv(mount: string, version: 1 | 2): Promise<void>;
  kvRead(mount: string, path: string): Promise<KvSecret | null>;
  kvList(mount: string, prefix: string): Promise<string[]>;
  /** The secret's key/values at `path`, whichever KV version the mount is; null when absent. */
  readSecret(mount: string, path: string, kvVersion: 1 | 2): Promise<Record<string, unknown> | null>;
  writeSecret(mount: string, path: string, data: Record<string, unknown>, kvVersion: 1 | 2): Promise<void>;
  /** Keys under a prefix; those ending in '/' are folders. */
  listSecrets(mount: string, prefix: string, kvVersion: 1 | 2): Promise<string[]>;
  /** `vault write auth/<path>` for a login: the client token and its policies. No token needed. */
  login(path: string, body: Record<string, unknown>): Promise<LoginResult>;
  /** `vault write <path>`: configuration of an auth method (a role, a user), answered with 200 or 204. */
  write(path: string, body: Record<string, unknown>): Promise<void>;
  approleLogin(roleId: string, secretId: string | undefined, mount?: string): Promise<LoginResult>;
  capabilitiesSelf(paths: string[]): Promise<Record<string, string[]>>;
  policiesText(names: string[]): Promise<Record<string, string | null>>;
  listAuthMethods(): Promise<Record<string, string>>;
  /** True when it enabled the method, false when one of that type was already there. */
  enableAuthMethod(path: string, type: string): Promise<boolean>;
  writePolicy(name: string, hcl: string): Promise<void>;
  readPolicy(name: string): Promise<string | null>;
  writeAppRole(mount: string, role: string, opts: AppRoleOptions): Promise<void>;
  readRoleId(mount: string, role: string): Promise<string>;
  generateSecretId(mount: string, role: string): Promise<{ secretId: string; ttl: number }>;
  /** When a secret_id stops being valid by its TTL: a date, null for none, or 'unknown-secret-id'. */
  secretIdExpiry(mount: string, role: string, secretId: string): Promise<Date | null | 'unknown-secret-id'>;
}
