import { type Check, fail, ok, warn } from './types.js';

// hvac.Client keyword arguments that VaultBackend passes through (anything else raises TypeError at lookup time).
const HVAC = ['verify', 'cert', 'timeout', 'proxies', 'allow_redirects', 'session', 'adapter', 'namespace', 'strict_http', 'request_header'];
const V110 = ['connections_path', 'variables_path', 'config_path', 'url', 'auth_type', 'mount_point', 'kv_engine_version', 'token', 'username', 'password', 'role_id', 'secret_id', 'gcp_key_path', 'gcp_scopes', 'kubernetes_role', 'kubernetes_jwt_path', ...HVAC];
const PROVIDER = [
  'connections_path', 'variables_path', 'config_path', 'use_team_secrets_path', 'global_secrets_path', 'url', 'auth_type', 'auth_mount_point',
  'mount_point', 'kv_engine_version', 'token', 'token_path', 'username', 'password', 'key_id', 'secret_id', 'role_id', 'assume_role_kwargs',
  'region', 'kubernetes_role', 'kubernetes_jwt_path', 'gcp_key_path', 'gcp_keyfile_dict', 'gcp_scopes', 'azure_tenant_id', 'azure_resource',
  'radius_host', 'radius_secret', 'radius_port', 'jwt_role', 'jwt_token', 'jwt_token_path', ...HVAC,
];

export const backendKwargs: Check = {
  id: 'backend-kwargs',
  title: 'AIRFLOW__SECRETS__BACKEND_KWARGS',
  async run(ctx) {
    const raw = ctx.env.get('AIRFLOW__SECRETS__BACKEND_KWARGS');
    const fixEnv = ctx.paths ? `create-secrets-sandbox ${ctx.paths.dir} --yes --force rewrites .env` : undefined;
    if (raw === undefined) return fail(`not set in ${ctx.envSource}: VaultBackend gets no url, token or paths`, fixEnv ?? 'set it to a JSON object with url, token, mount_point and connections_path');
    let kw: unknown;
    try {
      kw = JSON.parse(raw);
    } catch (e) {
      return fail(
        `not valid JSON (${(e as Error).message}): Airflow silently falls back to no kwargs at all`,
        fixEnv ?? `use double quotes and null/true/false, and quote the whole value in single quotes in shell files`,
      );
    }
    if (typeof kw !== 'object' || kw === null || Array.isArray(kw)) return fail('a JSON value, but not an object: Airflow drops it', fixEnv ?? 'make it a JSON object {...}');
    const k = kw as Record<string, unknown>;
    const major = ctx.airflow?.major;
    const problems: string[] = [];
    const warnings: string[] = [];
    const allowed = major === '1.10' ? V110 : PROVIDER;
    const unknown = Object.keys(k).filter((key) => !allowed.includes(key));
    if (unknown.length) problems.push(`unknown key(s) ${unknown.join(', ')}: VaultBackend hands them to hvac, which raises TypeError on every lookup`);
    if ('kv_engine_version' in k && k.kv_engine_version !== 1 && k.kv_engine_version !== 2) {
      problems.push(`kv_engine_version is ${JSON.stringify(k.kv_engine_version)}; write the number 1 or 2, without quotes`);
    }
    if (major === '1.10') {
      for (const p of ['connections_path', 'variables_path', 'config_path']) if (k[p] === null) problems.push(`${p} is null, which crashes Airflow 1.10 (None.rstrip); remove it`);
      if (!k.token) problems.push('no "token": Airflow 1.10 does not read VAULT_TOKEN');
    }
    if (typeof k.mount_point === 'string' && /^\/|\/$/.test(k.mount_point)) problems.push(`mount_point '${k.mount_point}' has a stray slash; write '${k.mount_point.replace(/^\/+|\/+$/g, '')}'`);
    for (const p of ['connections_path', 'variables_path']) {
      const v = k[p];
      if (typeof v === 'string' && v.startsWith('/')) problems.push(`${p} '${v}' starts with '/', which makes a '//' path Vault does not serve; write '${v.replace(/^\/+/, '')}'`);
      if (typeof v === 'string' && typeof k.mount_point === 'string' && (v === k.mount_point || v.startsWith(`${k.mount_point}/`))) {
        problems.push(`${p} '${v}' repeats the mount '${k.mount_point}': VaultBackend reads ${k.mount_point}/data/${v}/<id>; write '${v.slice(k.mount_point.length + 1) || 'connections'}'`);
      }
    }
    if (ctx.state && typeof k.url === 'string' && k.url.replace(/\/+$/, '') !== ctx.state.url) {
      problems.push(`url ${k.url} is not the sandbox server (${ctx.state.url})`);
    }
    if (ctx.serverToken && typeof k.token === 'string' && k.token !== ctx.serverToken) {
      problems.push('token is not the live sandbox server\'s root token (a dev server forgets tokens when it restarts)');
    }
    if (!('url' in k)) warnings.push('no "url": hvac falls back to VAULT_ADDR');
    if (problems.length) return fail(problems.join('; '), fixEnv ?? 'fix the value as said; Airflow reads it only at start-up');
    if (warnings.length) return warn(warnings.join('; '));
    return ok(`valid for Airflow ${ctx.airflow?.version ?? '2/3'}: mount_point ${String(k.mount_point ?? 'secret')}, connections_path ${String(k.connections_path ?? 'connections')}, kv_engine_version ${String(k.kv_engine_version ?? 2)}`);
  },
};
