/**
 * The least-privilege policy Airflow's VaultBackend needs: `read` on the connections and variables
 * paths and nothing else. On KV v2 the API path carries `data/` after the mount
 * (`secret/data/connections/*`); a policy written for `secret/connections/*` grants nothing there,
 * and Airflow sees only 403s (logged at DEBUG), the most common production failure.
 */

export interface PolicyInput {
  mount: string;
  connectionsPath: string;
  variablesPath: string;
  kvVersion: 1 | 2;
}

/** The API path prefix a KV read goes to: `<mount>/data/<path>` on v2, `<mount>/<path>` on v1. */
export function kvApiPath(mount: string, path: string, kvVersion: 1 | 2): string {
  return [mount, kvVersion === 2 ? 'data' : '', path].filter(Boolean).join('/');
}

/** The `path "..."` glob that lets a token read every secret under `path`. */
export function readGlob(mount: string, path: string, kvVersion: 1 | 2): string {
  return `${kvApiPath(mount, path, kvVersion)}/*`;
}

export function policyLine(glob: string): string {
  return `path "${glob}" {\n  capabilities = ["read"]\n}`;
}

/** The HCL text: one read-only block per path (one when both paths are the same). */
export function renderPolicy(p: PolicyInput): string {
  const globs = [...new Set([readGlob(p.mount, p.connectionsPath, p.kvVersion), readGlob(p.mount, p.variablesPath, p.kvVersion)])];
  const head = [
    '# Least privilege for Airflow\'s VaultBackend: read connections and variables, nothing else.',
    p.kvVersion === 2
      ? `# KV v2: the API path has data/ after the mount; "${p.mount}/${p.connectionsPath}/*" would grant nothing.`
      : `# KV v1: the API path is the mount and the path, with no data/ segment.`,
  ];
  return `${head.join('\n')}\n${globs.map(policyLine).join('\n\n')}\n`;
}
