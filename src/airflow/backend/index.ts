/**
 * Airflow's Vault backend settings: one type (kwargs.ts), one reader (reader.ts, over the user's
 * environment as bash builds it, user-env.ts, and Airflow's conf rules, airflow-conf.ts), one
 * writer (writer.ts), one place for defaults (kwargs.ts PROVIDER_DEFAULTS) and every version rule
 * (features.ts airflowFeatures).
 */
export * from './features.js';
export * from './kwargs.js';
export * from './provider.js';
export * from './airflow-conf.js';
export * from './user-env.js';
export * from './reader.js';
export * from './writer.js';
export * from './lookup.js';
export { expandVars, shlexSplit } from './python.js';

/** Mount and path as VaultBackend joins them: `<mount>/<connections_path>/<id>`. */
export function secretPath(connectionsPath: string, id: string): string {
  return connectionsPath === '' ? id : `${connectionsPath}/${id}`;
}
