/**
 * What the hashicorp provider makes of the kwargs (4.8.4: VaultBackend.__init__ and _VaultClient):
 * the typed view, what it raises while the backend is built, and the Vault access that results
 * (url, auth, TLS, namespace, mount, paths, KV version) with the fallbacks hvac applies.
 */
import type { AirflowFeatures } from './features.js';
import {
  AUTH_TYPES,
  isAuthType,
  missingAuthKey,
  PROVIDER_DEFAULTS,
  pyTruthy,
  type BackendKwargs,
  type PathsKwarg,
} from './kwargs.js';

type Check = (v: unknown) => boolean;
const isStr: Check = (v) => typeof v === 'string';
const strOrNull: Check = (v) => v === null || typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isDict: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const dictOrNull: Check = (v) => v === null || isDict(v);
const paths: Check = (v) => v === null || isStr(v) || (Array.isArray(v) && v.every(isStr));

/** The type each known key must have for the provider to use it as meant. */
const TYPES: Record<string, { check: Check; want: string }> = {
  connections_path: { check: paths, want: 'a string, a list of strings or null' },
  variables_path: { check: paths, want: 'a string, a list of strings or null' },
  config_path: { check: paths, want: 'a string, a list of strings or null' },
  use_team_secrets_path: { check: isBool, want: 'true or false' },
  global_secrets_path: { check: strOrNull, want: 'a string or null' },
  auth_type: { check: isAuthType, want: `one of ${AUTH_TYPES.join(', ')}` },
  kv_engine_version: { check: (v) => v === 1 || v === 2, want: 'the number 1 or 2' },
  assume_role_kwargs: { check: dictOrNull, want: 'an object or null' },
  gcp_keyfile_dict: { check: dictOrNull, want: 'an object or null' },
  radius_port: { check: (v) => v === null || Number.isInteger(v), want: 'a number or null' },
  verify: { check: (v) => isBool(v) || isStr(v), want: 'true, false or a CA file path' },
  cert: {
    check: (v) => isStr(v) || (Array.isArray(v) && v.length === 2 && v.every(isStr)),
    want: 'a file path or [cert, key]',
  },
  timeout: { check: (v) => typeof v === 'number', want: 'a number of seconds' },
  proxies: { check: (v) => isDict(v) && Object.values(v as object).every(isStr), want: 'an object of strings' },
  allow_redirects: { check: isBool, want: 'true or false' },
  strict_http: { check: isBool, want: 'true or false' },
  request_header: { check: isBool, want: 'true or false' },
  ignore_exceptions: { check: isBool, want: 'true or false' },
};

/** The kwargs typed: a value of the wrong type is left out of the view and named. */
export function typedKwargs(
  raw: Record<string, unknown>,
  features: AirflowFeatures,
): { kwargs: BackendKwargs; problems: string[] } {
  const kwargs: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (!features.kwargsKeys.includes(k)) {
      problems.push(`${k}: not a key VaultBackend or hvac.Client takes`);
      continue;
    }
    const t = TYPES[k] ?? { check: strOrNull, want: 'a string or null' };
    if (t.check(v)) kwargs[k] = v;
    else problems.push(`${k} is ${JSON.stringify(v)}, not ${t.want}`);
  }
  return { kwargs: kwargs as BackendKwargs, problems };
}

/** Python's _normalize_paths: a string is one path, a list is paths, a dict its keys; trailing slashes go. */
function normalizePaths(v: unknown): { paths: string[] | null } | { error: string } {
  if (v === null) return { paths: null };
  if (typeof v === 'string') return { paths: [v.replace(/\/+$/, '')] };
  const items = Array.isArray(v) ? v : isDict(v) ? Object.keys(v as object) : undefined;
  if (!items) return { error: `TypeError: '${pyType(v)}' object is not iterable` };
  const bad = items.find((p) => typeof p !== 'string');
  if (bad !== undefined) return { error: `AttributeError: '${pyType(bad)}' object has no attribute 'rstrip'` };
  return { paths: (items as string[]).map((p) => p.replace(/\/+$/, '')) };
}

function pyType(v: unknown): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  return Array.isArray(v) ? 'list' : 'dict';
}

/** Python's `x in [1, 2]` for a JSON value: true counts as 1. */
const inOneTwo = (v: unknown) => v === 1 || v === 2 || v === true;

/**
 * What building VaultBackend(**kwargs) raises, in the provider's order, or null. `env` is Airflow's
 * environment (token auth may take VAULT_TOKEN). Only for the provider class; 1.10 has its own.
 */
export function constructionError(raw: Record<string, unknown>, env: ReadonlyMap<string, string>): string | null {
  for (const key of ['connections_path', 'variables_path', 'config_path'] as const) {
    if (!(key in raw)) continue;
    const r = normalizePaths(raw[key]);
    if ('error' in r) return r.error.replace(': ', `: ${key}: `);
  }
  const global = raw.global_secrets_path;
  if (global !== undefined && global !== null && typeof global !== 'string')
    return `AttributeError: global_secrets_path: '${pyType(global)}' object has no attribute 'rstrip'`;
  const kv = raw.kv_engine_version;
  if (pyTruthy(kv) && !inOneTwo(kv)) return `VaultError: The version is not supported: ${String(kv)}`;
  const authType = 'auth_type' in raw ? raw.auth_type : PROVIDER_DEFAULTS.auth_type;
  if (!isAuthType(authType)) return `VaultError: The auth_type is not supported: ${String(authType)}`;
  const missing = missingAuthKey(authType, raw, env, 'build');
  return missing ? `VaultError: The '${authType}' authentication type requires '${missing}'` : null;
}

/** Where and how the backend will talk to Vault, with the provider's and hvac's fallbacks. */
export interface VaultAccess {
  url: string;
  urlFrom: 'kwargs' | 'VAULT_ADDR' | 'hvac default';
  authType: string;
  mount: string | null;
  /** null: Airflow never asks Vault for that kind. */
  connectionsPaths: string[] | null;
  variablesPaths: string[] | null;
  kvVersion: 1 | 2;
  /**
   * What requests gets (false, true, or a CA file): the kwargs' `verify`, else true. The provider
   * builds hvac's session itself, and hvac then prefers the session's `verify` over VAULT_CACERT:
   * with true, requests trusts REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (`caBundleFromEnv`), else its own.
   */
  verify: boolean | string;
  caBundleFromEnv?: string;
  namespace?: string;
  proxies?: Record<string, string>;
}

/** The first path of a `*_path` kwarg as a plain string (the tool writes one path), or null. */
export function firstPath(v: PathsKwarg | undefined, fallback: string): string | null {
  if (v === undefined) return fallback;
  if (v === null) return null;
  const r = normalizePaths(v);
  return 'paths' in r && r.paths ? (r.paths[0] ?? null) : fallback;
}

export function vaultAccess(raw: Record<string, unknown>, env: ReadonlyMap<string, string>): VaultAccess {
  const url = typeof raw.url === 'string' && raw.url ? raw.url : undefined;
  const addr = env.get('VAULT_ADDR');
  // A global_secrets_path (deprecated) is one more path after each kind's own, even after a null one.
  const global = typeof raw.global_secrets_path === 'string' ? raw.global_secrets_path.replace(/\/+$/, '') : undefined;
  const pathsOf = (key: string, fallback: string) => {
    const r = key in raw ? normalizePaths(raw[key]) : { paths: [fallback] };
    const own = 'paths' in r ? r.paths : [fallback];
    return global === undefined ? own : [...(own ?? []), global];
  };
  const kv = raw.kv_engine_version;
  const verify = typeof raw.verify === 'boolean' || typeof raw.verify === 'string' ? raw.verify : true;
  const bundle = env.get('REQUESTS_CA_BUNDLE') || env.get('CURL_CA_BUNDLE');
  const ns = raw.namespace;
  const proxies = raw.proxies;
  return {
    url: url ?? addr ?? PROVIDER_DEFAULTS.url,
    urlFrom: url ? 'kwargs' : addr !== undefined ? 'VAULT_ADDR' : 'hvac default',
    authType: typeof raw.auth_type === 'string' ? raw.auth_type : PROVIDER_DEFAULTS.auth_type,
    mount:
      'mount_point' in raw
        ? typeof raw.mount_point === 'string' && raw.mount_point
          ? raw.mount_point
          : null
        : PROVIDER_DEFAULTS.mount_point,
    connectionsPaths: pathsOf('connections_path', PROVIDER_DEFAULTS.connections_path),
    variablesPaths: pathsOf('variables_path', PROVIDER_DEFAULTS.variables_path),
    kvVersion: kv === 1 || kv === true ? 1 : 2,
    verify,
    ...(verify === true && bundle ? { caBundleFromEnv: bundle } : {}),
    ...(typeof ns === 'string' && ns ? { namespace: ns } : {}),
    ...(isDict(proxies) ? { proxies: proxies as Record<string, string> } : {}),
  };
}
