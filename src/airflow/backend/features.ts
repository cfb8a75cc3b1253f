/**
 * Every rule that depends on the Airflow version, in one table: what a given Airflow (a major such
 * as '3', or a full version such as '3.3.2') does with the Vault backend settings and around them.
 * Sources: the installed Airflow 3.3.2 and 2.11.2 (configuration.py, _shared/configuration/parser.py,
 * the hashicorp provider 4.8.4) and facts/airflow.md for 1.10.
 */
import { CONTRIB_KWARGS, PROVIDER_KWARGS } from './kwargs.js';

export type AirflowVersion = '1.10' | '2' | '3';
export const AIRFLOW_VERSIONS: readonly AirflowVersion[] = ['1.10', '2', '3'];

export const PROVIDER_CLASS = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
export const CONTRIB_CLASS = 'airflow.contrib.secrets.hashicorp_vault.VaultBackend';

export function airflowMajor(version: string): AirflowVersion {
  if (version.startsWith('1.')) return '1.10';
  return version.startsWith('2') ? '2' : '3';
}

export interface AirflowFeatures {
  /** As given: a major ('3') or a full version ('3.3.2'). */
  version: string;
  major: AirflowVersion;
  /** The minor version when a full version was given; a bare major means its newest minor. */
  minor?: number;
  /** The VaultBackend class path the tool writes. */
  classPath: string;
  /** Class paths this Airflow imports as VaultBackend (2.x still maps the 1.10 path to the provider). */
  importableClassPaths: readonly string[];
  /** Keyword arguments the backend class accepts (the rest reach hvac.Client, which raises TypeError). */
  kwargsKeys: readonly string[];
  /** `AIRFLOW__SECRETS__BACKEND_KWARG__<KEY>` values laid over the kwargs JSON (raw strings). */
  perKeyKwargs: boolean;
  /** Task processes build their backend from `[workers] secrets_backend`, falling back to `[secrets]`. */
  workersBackend: boolean;
  /** A `*_path` may be null (no lookup there); 1.10 crashes on it (None.rstrip). */
  nullPaths: boolean;
  /** A `*_path` may be a list of paths tried in order (provider 4.8). */
  pathLists: boolean;
  /** `auth_type: token` may take VAULT_TOKEN from the environment (provider 3.6.3+; not 1.10). */
  tokenFromEnv: boolean;
  /**
   * A failing `backend_kwargs_cmd` in airflow.cfg: Airflow 3 wraps it (the kwargs are dropped with a
   * warning); Airflow 2 lets the error through, and every airflow command fails at start.
   */
  cfgCommandFailureDropsKwargs: boolean;
  /** Which URI parser the connection secrets meet (src/airflow/connection.ts). */
  uriRules: '2' | '3';
  /** How connections are stored when the user did not say: 3.0 and 3.1 may not deserialize a conn_uri. */
  defaultFormat: 'uri' | 'fields';
  /** The command that creates Airflow's database. */
  dbInitCommand: readonly string[];
  /** Keyword arguments of Connection() a fields-format secret may use (team_name from Airflow 3.1). */
  connectionFields: readonly string[];
}

function parseVersion(version: string): { major: AirflowVersion; minor?: number } {
  const major = airflowMajor(version);
  const m = /^\d+\.(\d+)/.exec(version);
  return major === '1.10' || !m ? { major } : { major, minor: Number(m[1]) };
}

const CONNECTION_FIELDS = ['conn_type', 'description', 'host', 'login', 'password', 'schema', 'port', 'extra', 'uri'];

export function airflowFeatures(version: string): AirflowFeatures {
  const { major, minor } = parseVersion(version);
  // A bare major stands for its newest release.
  const atLeast = (want: number) => minor === undefined || minor >= want;
  const provider = major !== '1.10';
  return {
    version,
    major,
    ...(minor !== undefined ? { minor } : {}),
    classPath: provider ? PROVIDER_CLASS : CONTRIB_CLASS,
    importableClassPaths: major === '3' ? [PROVIDER_CLASS] : [PROVIDER_CLASS, CONTRIB_CLASS],
    kwargsKeys: provider ? PROVIDER_KWARGS : CONTRIB_KWARGS,
    perKeyKwargs: major === '3' && atLeast(3),
    workersBackend: major === '3',
    nullPaths: provider,
    pathLists: provider,
    tokenFromEnv: provider,
    cfgCommandFailureDropsKwargs: major === '3',
    uriRules: major === '3' ? '3' : '2',
    defaultFormat: major === '3' && minor !== undefined && minor <= 1 ? 'fields' : 'uri',
    dbInitCommand: major === '1.10' ? ['initdb'] : major === '2' && !atLeast(7) ? ['db', 'init'] : ['db', 'migrate'],
    connectionFields: major === '3' && atLeast(1) ? [...CONNECTION_FIELDS, 'team_name'] : CONNECTION_FIELDS,
  };
}
