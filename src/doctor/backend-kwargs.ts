import { selfCommand, shellArg } from '../ui/invocation.js';
import {
  AUTH_REQUIRES,
  AUTH_TYPES,
  CONTRIB_KWARGS,
  isAuthType,
  missingAuthKey,
  PROVIDER_KWARGS,
} from '../airflow/backend/index.js';
import { type Check, fail, ok, warn } from './types.js';
import { jsonSyntaxError } from '../io/parse.js';

/**
 * A fix that changes single keys of the kwargs JSON, said key by key so that it never repeats the
 * token the JSON holds: `in FILE, AIRFLOW__SECRETS__BACKEND_KWARGS: set "url": "http://..."; remove "x"`.
 */
export function kwargsFix(
  ctx: { paths?: { env: string }; kwargsSource?: string },
  ops: { set?: Record<string, unknown>; remove?: string[] },
): string {
  const parts = [
    ...Object.entries(ops.set ?? {}).map(([k, v]) => `set "${k}": ${JSON.stringify(v)}`),
    ...(ops.remove ?? []).map((k) => `remove "${k}"`),
  ];
  const where = ctx.paths
    ? `in ${ctx.paths.env}, AIRFLOW__SECRETS__BACKEND_KWARGS`
    : `in AIRFLOW__SECRETS__BACKEND_KWARGS (${ctx.kwargsSource ?? 'the environment'})`;
  return `${where}: ${parts.join('; ')}`;
}

export const backendKwargs: Check = {
  id: 'backend-kwargs',
  title: 'Secrets backend kwargs',
  link: 'kwargs',
  async run(ctx) {
    const raw = ctx.kwargsRaw;
    const rewrite = ctx.paths ? `${selfCommand()} ${shellArg(ctx.paths.dir)} --yes --force` : undefined;
    const where = ctx.kwargsSource;
    const major = ctx.airflow?.major;
    if (raw === undefined || raw.trim() === '') {
      if (ctx.kwargs)
        return ok(`only per-key overrides (AIRFLOW__SECRETS__BACKEND_KWARG__*): ${Object.keys(ctx.kwargs).join(', ')}`);
      return warn(
        `not set: VaultBackend uses its defaults (url from VAULT_ADDR, token from VAULT_TOKEN, mount_point secret, connections_path connections)`,
        rewrite ?? `export AIRFLOW__SECRETS__BACKEND_KWARGS='{"url": "http://127.0.0.1:8200", "token": "<token>"}'`,
      );
    }
    if (!ctx.kwargs) {
      let why = 'a JSON value, but not an object';
      const bad = jsonSyntaxError(raw);
      if (bad) why = `not valid JSON (at character ${bad.offset + 1}: ${bad.reason})`;
      return fail(
        `${where} is ${why}: Airflow logs a warning and builds VaultBackend with no kwargs at all`,
        rewrite ?? 'use double quotes and null/true/false, and quote the whole value in single quotes in shell files',
      );
    }
    const k = ctx.kwargs;
    const problems: string[] = [];
    const fixes: string[] = [];
    const notes: string[] = [];
    const allowed = major === '1.10' ? CONTRIB_KWARGS : PROVIDER_KWARGS;
    const unknown = Object.keys(k).filter((key) => !allowed.includes(key));
    if (unknown.length) {
      problems.push(
        `unknown key(s) ${unknown.join(', ')}: VaultBackend hands them to hvac.Client, which raises TypeError on every lookup`,
      );
      fixes.push(kwargsFix(ctx, { remove: unknown }));
    }
    const kv = k.kv_engine_version;
    if (kv !== undefined && kv !== null && kv !== 0 && kv !== 1 && kv !== 2) {
      problems.push(
        `kv_engine_version is ${JSON.stringify(kv)}: the provider accepts only the numbers 1 and 2 and refuses to start`,
      );
      fixes.push(kwargsFix(ctx, { set: { kv_engine_version: Number(kv) === 1 ? 1 : 2 } }));
    }
    const authType = 'auth_type' in k ? k.auth_type : 'token';
    if (!isAuthType(authType)) {
      problems.push(
        `auth_type '${String(k.auth_type)}' is not one the provider knows (${AUTH_TYPES.join(', ')}): VaultBackend cannot be built`,
      );
    } else {
      const note = AUTH_REQUIRES[authType].note;
      const needs = note ? ` (${authType} needs ${note})` : '';
      const atBuild = missingAuthKey(authType, k, ctx.env, 'build');
      const atLogin = missingAuthKey(authType, k, ctx.env, 'login');
      if (atBuild)
        problems.push(
          `auth_type ${authType} needs ${atBuild}: the provider raises VaultError while building VaultBackend, so every lookup fails${needs}`,
        );
      else if (atLogin)
        problems.push(`auth_type ${authType} needs ${atLogin}: the login fails, so every lookup fails${needs}`);
    }
    if (major === '1.10') {
      for (const p of ['connections_path', 'variables_path', 'config_path'])
        if (k[p] === null) problems.push(`${p} is null, which crashes Airflow 1.10 (None.rstrip); remove it`);
      if (!k.token) problems.push('no "token": Airflow 1.10 does not read VAULT_TOKEN');
    }
    if (k.connections_path === null) notes.push('connections_path is null: Airflow never asks Vault for connections');
    if (k.variables_path === null) notes.push('variables_path is null: Airflow never asks Vault for variables');
    if (k.mount_point === null)
      notes.push(
        'mount_point is null: each path must start with the mount (e.g. connections_path "secret/connections")',
      );
    if (typeof k.namespace === 'string' && k.namespace)
      notes.push(`namespace '${k.namespace}': every request carries X-Vault-Namespace`);
    for (const p of ['connections_path', 'variables_path']) {
      const v = k[p];
      if (
        typeof v === 'string' &&
        typeof k.mount_point === 'string' &&
        k.mount_point &&
        (v === k.mount_point || v.startsWith(`${k.mount_point.replace(/\/+$/, '')}/`))
      ) {
        notes.push(
          `${p} '${v}' starts with the mount '${k.mount_point}': VaultBackend reads ${k.mount_point}/data/${v}/<id>`,
        );
      }
    }
    if (ctx.state && typeof k.url === 'string' && k.url.replace(/\/+$/, '') !== ctx.state.url) {
      notes.push(`url ${k.url} is not the sandbox server (${ctx.state.url})`);
    }
    if (!('url' in k) || k.url === null)
      notes.push(
        `no "url": hvac takes VAULT_ADDR${ctx.env.get('VAULT_ADDR') ? ` (${ctx.env.get('VAULT_ADDR')})` : ', which is unset, so http://localhost:8200'}`,
      );
    if (problems.length)
      return fail(
        `${where}: ${problems.join('; ')}`,
        fixes[0] ?? rewrite ?? 'fix the value as said; Airflow reads it only at start-up',
        notes,
      );
    const summary = `mount_point ${k.mount_point === undefined ? 'secret' : JSON.stringify(k.mount_point)}, connections_path ${k.connections_path === undefined ? 'connections' : JSON.stringify(k.connections_path)}, variables_path ${k.variables_path === undefined ? 'variables' : JSON.stringify(k.variables_path)}, kv_engine_version ${String(kv ?? 2)}, auth_type ${authType}`;
    if (notes.length) return warn(`${where}: ${summary}; ${notes.join('; ')}`);
    return ok(`${where}: ${summary}`);
  },
};
