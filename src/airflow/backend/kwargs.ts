/**
 * The keyword arguments of Airflow's VaultBackend, typed, with their defaults and the rules the
 * provider applies when it builds the backend (apache-airflow-providers-hashicorp 4.8.4:
 * secrets/vault.py and _internal_client/vault_client.py; hvac 2.4.0 Client and Adapter).
 * The one place for defaults: what Airflow uses when a key is absent.
 */

export const AUTH_TYPES = [
  'approle',
  'aws_iam',
  'azure',
  'github',
  'gcp',
  'jwt',
  'kubernetes',
  'ldap',
  'radius',
  'token',
  'userpass',
] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export type PathsKwarg = string | string[] | null;

/** Every key VaultBackend takes, typed as the provider accepts it; the hvac.Client keys at the end. */
export interface BackendKwargs {
  connections_path?: PathsKwarg;
  variables_path?: PathsKwarg;
  config_path?: PathsKwarg;
  use_team_secrets_path?: boolean;
  global_secrets_path?: string | null;
  url?: string | null;
  auth_type?: AuthType;
  auth_mount_point?: string | null;
  mount_point?: string | null;
  kv_engine_version?: 1 | 2;
  token?: string | null;
  token_path?: string | null;
  username?: string | null;
  password?: string | null;
  key_id?: string | null;
  secret_id?: string | null;
  role_id?: string | null;
  assume_role_kwargs?: Record<string, unknown> | null;
  region?: string | null;
  kubernetes_role?: string | null;
  kubernetes_jwt_path?: string | null;
  gcp_key_path?: string | null;
  gcp_keyfile_dict?: Record<string, unknown> | null;
  gcp_scopes?: string | null;
  azure_tenant_id?: string | null;
  azure_resource?: string | null;
  radius_host?: string | null;
  radius_secret?: string | null;
  radius_port?: number | null;
  jwt_role?: string | null;
  jwt_token?: string | null;
  jwt_token_path?: string | null;
  // hvac.Client (VaultBackend hands every key it does not name to it)
  verify?: boolean | string;
  cert?: string | [string, string];
  timeout?: number;
  proxies?: Record<string, string>;
  allow_redirects?: boolean;
  namespace?: string | null;
  strict_http?: boolean;
  request_header?: boolean;
  ignore_exceptions?: boolean;
}

/** The Vault backend as Airflow builds it: the class and the keyword arguments it is called with. */
export interface BackendSettings {
  classPath?: string;
  kwargs: BackendKwargs;
}

/** hvac.Client and its adapter take these; VaultBackend hands every unknown kwarg to hvac.Client. */
export const HVAC_KWARGS = [
  'verify',
  'cert',
  'timeout',
  'proxies',
  'allow_redirects',
  'session',
  'adapter',
  'namespace',
  'strict_http',
  'request_header',
  'ignore_exceptions',
] as const;

export const PROVIDER_KWARGS: readonly string[] = [
  'connections_path',
  'variables_path',
  'config_path',
  'use_team_secrets_path',
  'global_secrets_path',
  'url',
  'auth_type',
  'auth_mount_point',
  'mount_point',
  'kv_engine_version',
  'token',
  'token_path',
  'username',
  'password',
  'key_id',
  'secret_id',
  'role_id',
  'assume_role_kwargs',
  'region',
  'kubernetes_role',
  'kubernetes_jwt_path',
  'gcp_key_path',
  'gcp_keyfile_dict',
  'gcp_scopes',
  'azure_tenant_id',
  'azure_resource',
  'radius_host',
  'radius_secret',
  'radius_port',
  'jwt_role',
  'jwt_token',
  'jwt_token_path',
  ...HVAC_KWARGS,
];

/** Airflow 1.10's airflow.contrib VaultBackend. */
export const CONTRIB_KWARGS: readonly string[] = [
  'connections_path',
  'variables_path',
  'config_path',
  'url',
  'auth_type',
  'mount_point',
  'kv_engine_version',
  'token',
  'username',
  'password',
  'role_id',
  'secret_id',
  'gcp_key_path',
  'gcp_scopes',
  'kubernetes_role',
  'kubernetes_jwt_path',
  ...HVAC_KWARGS,
];

/** Keys whose values are credentials: masked in every message. */
export const SECRET_KWARGS: readonly string[] = [
  'token',
  'password',
  'secret_id',
  'radius_secret',
  'jwt_token',
  'gcp_keyfile_dict',
  'key_id',
];

/** What VaultBackend and hvac use for a key that is absent. */
export const PROVIDER_DEFAULTS = {
  connections_path: 'connections',
  variables_path: 'variables',
  config_path: 'config',
  mount_point: 'secret',
  kv_engine_version: 2,
  auth_type: 'token',
  /** hvac's own default when neither `url` nor VAULT_ADDR is set. */
  url: 'http://localhost:8200',
  kubernetes_jwt_path: '/var/run/secrets/kubernetes.io/serviceaccount/token',
} as const;

/**
 * What each auth_type needs. `needs` is what _VaultClient checks when VaultBackend is built (a miss
 * raises VaultError then: Airflow cannot build its backends); `atLogin` is what the login itself
 * needs (a miss fails every lookup). Each entry: alternatives of keys, any one of which must be set.
 */
export const AUTH_REQUIRES: Record<AuthType, { needs: string[][]; atLogin?: string[][]; note?: string }> = {
  token: {
    needs: [['token', 'token_path', 'VAULT_TOKEN']],
    note: "a token string, a token_path file, or VAULT_TOKEN in Airflow's environment",
  },
  approle: {
    needs: [['role_id']],
    atLogin: [['secret_id']],
    note: 'role_id (and secret_id unless the role has bind_secret_id=false), auth_mount_point when AppRole is not at auth/approle',
  },
  github: { needs: [['token', 'token_path']] },
  kubernetes: {
    needs: [['kubernetes_role'], ['kubernetes_jwt_path']],
    note: 'kubernetes_role, and the service-account JWT at kubernetes_jwt_path',
  },
  jwt: { needs: [['jwt_role'], ['jwt_token', 'jwt_token_path']] },
  azure: {
    needs: [['azure_resource'], ['azure_tenant_id']],
    note: 'azure_resource, azure_tenant_id, key_id and secret_id',
  },
  radius: { needs: [['radius_host'], ['radius_secret']] },
  gcp: {
    needs: [['gcp_scopes'], ['role_id']],
    note: 'gcp_scopes, role_id, and gcp_key_path or gcp_keyfile_dict (or default credentials)',
  },
  ldap: { needs: [], atLogin: [['username'], ['password']] },
  userpass: { needs: [], atLogin: [['username'], ['password']] },
  aws_iam: {
    needs: [],
    note: 'key_id and secret_id, or boto3 credentials in the environment; role_id names the Vault role',
  },
};

export function isAuthType(v: unknown): v is AuthType {
  return typeof v === 'string' && (AUTH_TYPES as readonly string[]).includes(v);
}

/** Python truthiness of a JSON value, which is what the provider's `if not x` checks test. */
export function pyTruthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/**
 * The first missing requirement of auth_type, as the provider would meet it: 'build' only what
 * building VaultBackend checks, 'login' that and what the login needs; null when all are there.
 */
export function missingAuthKey(
  authType: string,
  kwargs: Record<string, unknown>,
  env: ReadonlyMap<string, string>,
  when: 'build' | 'login' = 'login',
): string | null {
  if (!isAuthType(authType)) return null;
  const rule = AUTH_REQUIRES[authType];
  const needs = when === 'build' ? rule.needs : [...rule.needs, ...(rule.atLogin ?? [])];
  const has = (k: string) => {
    if (k === 'VAULT_TOKEN') return env.has('VAULT_TOKEN');
    // kubernetes_jwt_path has a default: only an explicit empty value is missing.
    if (k === 'kubernetes_jwt_path' && !(k in kwargs)) return true;
    return pyTruthy(kwargs[k]);
  };
  for (const alternatives of needs) if (!alternatives.some(has)) return alternatives.join(' or ');
  return null;
}
