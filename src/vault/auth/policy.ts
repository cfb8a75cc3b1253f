/**
 * The least-privilege policy Airflow's VaultBackend needs: `read` on the connections and variables
 * paths and nothing else. On KV v2 the API path carries `data/` after the mount
 * (`secret/data/connections/*`); a policy written for `secret/connections/*` grants nothing there,
 * and Airflow sees only 403s (logged at DEBUG), the most common production failure.
 */

/** The policy a sandbox binds Airflow's login to; its text is the sandbox's policy.hcl, written on every run. */
export const POLICY_NAME = 'airflow-secrets-read';

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
  const globs = [
    ...new Set([readGlob(p.mount, p.connectionsPath, p.kvVersion), readGlob(p.mount, p.variablesPath, p.kvVersion)]),
  ];
  const head = [
    "# Least privilege for Airflow's VaultBackend: read connections and variables, nothing else.",
    p.kvVersion === 2
      ? `# KV v2: the API path has data/ after the mount; "${p.mount}/${p.connectionsPath}/*" would grant nothing.`
      : `# KV v1: the API path is the mount and the path, with no data/ segment.`,
  ];
  return `${head.join('\n')}\n${globs.map(policyLine).join('\n\n')}\n`;
}

export interface PolicyBlock {
  glob: string;
  capabilities: string[];
}

/** The `path "..." { capabilities = [...] }` blocks of an ACL policy (HCL; the JSON form is not parsed). */
export function parsePolicy(hcl: string): PolicyBlock[] {
  const out: PolicyBlock[] = [];
  const noComments = hcl.replace(/(^|\s)(#|\/\/).*$/gm, '$1');
  for (const m of noComments.matchAll(/path\s+"([^"]+)"\s*\{([^}]*)\}/g)) {
    const caps = /capabilities\s*=\s*\[([^\]]*)\]/.exec(m[2] ?? '');
    const capabilities = [...(caps?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((c) => c[1] ?? '');
    out.push({ glob: m[1] ?? '', capabilities });
  }
  return out;
}

/** Vault's path matching: `+` is one segment, a trailing `*` any suffix, everything else literal. */
export function globMatches(glob: string, path: string): boolean {
  const star = glob.endsWith('*');
  const body = star ? glob.slice(0, -1) : glob;
  const re = body
    .split('+')
    .map((part) => part.replace(/[.*?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${re}${star ? '.*' : ''}$`).test(path);
}

export interface PolicyVerdict {
  /** True when some block grants read on the path (and none denies it). */
  grants: boolean;
  /** What is wrong, in one sentence (when it does not grant). */
  problem?: string;
  /** The policy block that fixes it. */
  fix?: string;
}

/**
 * Why a policy does or does not let a token read `<mount>/<secretPath>` the way VaultBackend reads
 * it. The common mistake, a KV v1 path on a KV v2 mount (`secret/connections/*`), is named as such.
 */
export function judgePolicy(hcl: string, mount: string, secretPath: string, kvVersion: 1 | 2): PolicyVerdict {
  const apiPath = kvApiPath(mount, secretPath, kvVersion);
  const blocks = parsePolicy(hcl);
  const matching = blocks.filter((b) => globMatches(b.glob, apiPath));
  const parent = secretPath.includes('/') ? secretPath.slice(0, secretPath.lastIndexOf('/')) : '';
  const fix = policyLine(readGlob(mount, parent, kvVersion));
  if (matching.some((b) => b.capabilities.includes('deny'))) {
    return { grants: false, problem: `the policy denies ${apiPath} (a "deny" capability wins over every grant)`, fix };
  }
  if (matching.some((b) => b.capabilities.includes('read') || b.capabilities.includes('sudo'))) return { grants: true };
  if (matching.length) {
    const caps = matching.map((b) => `"${b.glob}" [${b.capabilities.join(', ')}]`).join(', ');
    return {
      grants: false,
      problem: `the policy matches ${apiPath} with ${caps} but not "read", which VaultBackend needs`,
      fix,
    };
  }
  if (kvVersion === 2) {
    const v1Path = kvApiPath(mount, secretPath, 1);
    const v1 = blocks.find((b) => globMatches(b.glob, v1Path));
    if (v1) {
      return {
        grants: false,
        problem: `the policy grants "${v1.glob}", the KV v1 form; on this KV v2 mount VaultBackend reads ${apiPath} (with data/ after the mount), which it does not cover`,
        fix,
      };
    }
  }
  return { grants: false, problem: `no path in the policy covers ${apiPath}, where VaultBackend reads`, fix };
}
