/**
 * The hashicorp provider's own rules (apache-airflow-providers-hashicorp 4.x, secrets/vault.py and
 * _internal_client/vault_client.py), for the emulation when no Airflow can be asked.
 */

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
];

export const PROVIDER_KWARGS = [
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

export const CONTRIB_KWARGS = [
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

/**
 * What each auth_type needs, as the provider checks it when VaultBackend is built (a miss raises
 * VaultError then: Airflow cannot build its backends) or when it logs in. Each entry: alternatives
 * of keys, any one of which must be set.
 */
export const AUTH_REQUIRES: Record<string, { needs: string[][]; note?: string }> = {
  token: {
    needs: [['token', 'token_path', 'VAULT_TOKEN']],
    note: "a token string, a token_path file, or VAULT_TOKEN in Airflow's environment",
  },
  approle: {
    needs: [['role_id']],
    note: 'role_id (and secret_id unless the role has bind_secret_id=false), auth_mount_point when AppRole is not at auth/approle',
  },
  github: { needs: [['token', 'token_path']] },
  kubernetes: {
    needs: [['kubernetes_role']],
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
  ldap: { needs: [['username'], ['password']] },
  userpass: { needs: [['username'], ['password']] },
  aws_iam: {
    needs: [],
    note: 'key_id and secret_id, or boto3 credentials in the environment; role_id names the Vault role',
  },
};

/** The first missing requirement of auth_type, as the provider would raise it; null when all are there. */
export function missingAuthKey(
  authType: string,
  kwargs: Record<string, unknown>,
  env: Map<string, string>,
): string | null {
  const rule = AUTH_REQUIRES[authType];
  if (!rule) return null;
  const has = (k: string) =>
    k === 'VAULT_TOKEN'
      ? Boolean(env.get('VAULT_TOKEN'))
      : kwargs[k] !== undefined && kwargs[k] !== null && kwargs[k] !== '';
  for (const alternatives of rule.needs) if (!alternatives.some(has)) return alternatives.join(' or ');
  return null;
}

/** Keyword arguments of Connection() that a fields-format secret may use (Connection.from_json); team_name from Airflow 3.1. */
export function connectionFields(major: string | undefined): string[] {
  const base = ['conn_type', 'description', 'host', 'login', 'password', 'schema', 'port', 'extra', 'uri'];
  return major === '2' || major === '1.10' ? base : [...base, 'team_name'];
}

/**
 * What Airflow makes of a connection secret (VaultBackend.get_conn_value, then Connection.from_json):
 * null when it builds a Connection, else why it raises. conn_uri wins when non-empty; otherwise the
 * whole secret becomes Connection keyword arguments.
 */
export function secretShapeProblem(data: Record<string, unknown>, major: string | undefined): string | null {
  if (typeof data.conn_uri === 'string' && data.conn_uri) return null;
  const allowed = connectionFields(major);
  const unknown = Object.keys(data).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    const hint = unknown.includes('conn_uri') ? ' (an empty conn_uri counts as a field)' : '';
    return `keys ${unknown.join(', ')} are not Connection fields${hint}: Connection() raises TypeError and Airflow skips the secret (allowed: conn_uri, or ${allowed.join(', ')})`;
  }
  if (data.uri && ['conn_type', 'host', 'login', 'password', 'schema', 'port', 'extra'].some((k) => data[k])) {
    return 'uri together with other fields: Connection() refuses to mix them';
  }
  if (
    data.port !== undefined &&
    data.port !== null &&
    data.port !== '' &&
    !/^\s*[+-]?\d+\s*$/.test(String(data.port))
  ) {
    return `port ${JSON.stringify(data.port)} is not an integer: Connection.from_json raises ValueError`;
  }
  return null;
}
