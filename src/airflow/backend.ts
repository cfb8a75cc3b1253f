/**
 * Airflow's VaultBackend per Airflow version (airflow.md §1, §2): the class path, the kwargs JSON
 * it accepts, and the Vault path it reads a connection from.
 */

export type AirflowVersion = '1.10' | '2' | '3';
export const AIRFLOW_VERSIONS: readonly AirflowVersion[] = ['1.10', '2', '3'];

export function backendClassPath(v: AirflowVersion): string {
  return v === '1.10'
    ? 'airflow.contrib.secrets.hashicorp_vault.VaultBackend'
    : 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
}

export interface BackendTarget {
  url: string;
  token: string;
  mount: string;
  connectionsPath: string;
  variablesPath: string;
  kvVersion: 1 | 2;
  /**
   * How Airflow logs in, as the auth method's own kwargs (src/vault/auth: `auth_type`, `role_id`,
   * `secret_id`, ...). Absent: the token above.
   */
  auth?: Record<string, unknown>;
  /** CA file for an https url: `verify` (requests' meaning of a path: trust this CA). */
  caFile?: string;
  /** Vault namespace, passed through to hvac.Client. */
  namespace?: string;
}

/**
 * The kwargs object, keys in a stable order. Numbers stay numbers (2.x rejects "2"; 1.10 would read
 * "1" as v2). `config_path: null` only where the provider understands null: on 1.10 an unknown key
 * reaches hvac.Client and raises TypeError, and a null path crashes `.rstrip`.
 */
export function backendKwargs(v: AirflowVersion, t: BackendTarget): Record<string, unknown> {
  const kwargs: Record<string, unknown> = {
    connections_path: t.connectionsPath,
    variables_path: t.variablesPath,
  };
  if (v !== '1.10') kwargs.config_path = null;
  kwargs.mount_point = t.mount;
  kwargs.kv_engine_version = t.kvVersion;
  kwargs.url = t.url;
  // hvac.Client takes both through the provider's **kwargs; `verify` also reaches its requests session.
  if (t.caFile) kwargs.verify = t.caFile;
  if (t.namespace) kwargs.namespace = t.namespace;
  // Always explicit: 1.10 and providers before 3.6.3 ignore VAULT_TOKEN.
  if (t.auth) Object.assign(kwargs, t.auth);
  else kwargs.token = t.token;
  return kwargs;
}

/** Mount and path as VaultBackend joins them: `<mount>/<connections_path>/<id>`. */
export function secretPath(connectionsPath: string, id: string): string {
  return connectionsPath === '' ? id : `${connectionsPath}/${id}`;
}

/** The env var Airflow reads before the metastore, which would hide a Vault miss (or win over nothing). */
export function connEnvVar(id: string): string {
  return `AIRFLOW_CONN_${id.toUpperCase()}`;
}

/** Airflow 3 JSON-decodes query values of a connection URI; 2.x and 1.10 keep them as strings. */
export function uriRules(v: AirflowVersion): '2' | '3' {
  return v === '3' ? '3' : '2';
}
