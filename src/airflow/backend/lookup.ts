/**
 * The lookup Airflow's VaultBackend would make with the settings it reads: where (url, mount,
 * paths, KV version), how it logs in (the auth registry), over which TLS and namespace; or, in one
 * line, what stops Airflow from using these settings at all.
 */
import { authFromKwargs, type AuthSpec } from '../../vault/auth/index.js';
import { constructionError, firstPath, vaultAccess } from './provider.js';
import { describeSource } from './airflow-conf.js';
import type { BackendRead } from './reader.js';

/** The lookup the create flow's check repeats: where Airflow's VaultBackend reads, and how it logs in. */
export interface AirflowLookup {
  url: string;
  /** The token Airflow sends with token auth; '' with another auth method (see `auth`). */
  token: string;
  /** How the provider logs in with these kwargs (src/vault/auth). */
  auth: AuthSpec;
  /** `verify` when it is a CA path; `namespace`. */
  caFile?: string;
  namespace?: string;
  variablesPath: string;
  mount: string;
  connectionsPath: string;
  kvVersion: 1 | 2;
}

/** What stops Airflow from using these settings, in Airflow's order, as one line; null when nothing does. */
function settingsProblem(read: BackendRead, env: Map<string, string>): string | null {
  if (!read.settings.classPath) return 'no secrets backend is set (AIRFLOW__SECRETS__BACKEND)';
  const p = read.problems[0];
  if (p) {
    const from = p.source ? ` (${describeSource(p.source)})` : '';
    const effect = p.effect === 'dropped' ? ': Airflow would silently use no kwargs' : '';
    return `${p.option}${from} ${p.message}${effect}`;
  }
  if (read.kwargsText === undefined && Object.keys(read.kwargs).length === 0)
    return 'AIRFLOW__SECRETS__BACKEND_KWARGS is not set';
  const built = read.features.major === '1.10' ? null : constructionError(read.kwargs, env);
  return built ? `VaultBackend cannot be built: ${built}` : null;
}

/** The lookup Airflow would do with the settings it reads, or a description of what is wrong. */
export function lookupFromSettings(read: BackendRead, env: Map<string, string>): AirflowLookup | string {
  const problem = settingsProblem(read, env);
  if (problem) return problem;
  const kw = read.kwargs;
  const access = vaultAccess(kw, env);
  if (access.urlFrom === 'hvac default') return 'no url in the kwargs and no VAULT_ADDR';
  const auth = authFromKwargs(kw, env);
  if (typeof auth === 'string') return auth;
  if (access.mount === null) return 'mount_point is null: this check reads a fixed mount';
  const connectionsPath = firstPath(read.settings.kwargs.connections_path, 'connections');
  const variablesPath = firstPath(read.settings.kwargs.variables_path, 'variables');
  if (connectionsPath === null || variablesPath === null)
    return 'connections_path or variables_path is null: Airflow would never ask Vault';
  return {
    url: access.url,
    token: auth.method === 'token' && 'token' in auth ? auth.token : '',
    auth,
    ...(typeof access.verify === 'string' ? { caFile: access.verify } : {}),
    ...(access.namespace ? { namespace: access.namespace } : {}),
    variablesPath,
    mount: access.mount,
    connectionsPath,
    kvVersion: access.kvVersion,
  };
}
