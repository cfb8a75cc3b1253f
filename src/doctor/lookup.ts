/**
 * Reads each connection or variable where VaultBackend reads it, with the token Airflow logs in
 * with, and names what would stop Airflow: the path (nothing there), the policy (403, with the
 * policy line that would allow it), or the secret's shape (what Airflow cannot build from it).
 */
import { secretPath } from '../airflow/backend/index.js';
import { kvApiPath, policyLine, readGlob } from '../vault/auth/policy.js';
import type { VaultError } from '../vault/client.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { effectiveMount } from './mount.js';
import { kwargsFix } from './backend-kwargs.js';
import { secretShapeProblem } from './provider-rules.js';
import type { CheckInput, CheckOutcome } from './types.js';
import { airflowClient, fail, ok, warn } from './types.js';

type Kind = 'connections' | 'variables';

async function policyHint(ctx: CheckInput, mount: string, base: string): Promise<string> {
  const kv = ctx.kvVersion ?? 2;
  const glob = readGlob(mount, base, kv);
  const names = (ctx.policies ?? []).filter((p) => p !== 'default' && p !== 'root');
  // Only a sandbox's own root token may read policies; a user's token usually cannot.
  let written = '';
  if (ctx.serverToken && names.length) {
    const admin = airflowClient(ctx, ctx.serverToken);
    for (const n of names) {
      const text = await admin.readPolicy(n).catch(() => null);
      const wrongGlob = `${mount}/${base}/*`;
      if (text && kv === 2 && text.includes(`"${wrongGlob}"`))
        written = ` Policy '${n}' grants "${wrongGlob}", but on KV v2 the API path is ${kvApiPath(mount, base, kv)}/<id>, so it grants nothing there.`;
    }
  }
  return `${written} Needed: ${policyLine(glob).replace(/\s*\n\s*/g, ' ')}`;
}

/** A command that adds the read rule to the token's own policy (run with a token that may write policies). */
function policyFix(ctx: CheckInput, mount: string, basePath: string): string {
  const name = (ctx.policies ?? []).find((p) => p !== 'default' && p !== 'root') ?? 'airflow';
  const line = policyLine(readGlob(mount, basePath, ctx.kvVersion ?? 2)).replace(/\n/g, '\\n');
  const vault = ctx.binary ? shellArg(ctx.binary.path) : 'vault';
  return `{ ${vault} policy read ${shellArg(name)} 2>/dev/null; printf '\\n${line}\\n'; } | ${vault} policy write ${shellArg(name)} -`;
}

/** Where doctor would have learned the ids, and why it did not: said as it is, never "no file" for a file that lists none. */
function knownFrom(ctx: CheckInput): string {
  const c = ctx.sandbox?.config;
  if (!c) return 'not a sandbox: no config and no seeded set';
  return c.exists ? `${c.label} lists none and the sandbox recorded no seeding` : `no ${c.label}`;
}

export async function lookupAll(ctx: CheckInput, kind: Kind): Promise<CheckOutcome> {
  const single = kind === 'connections' ? 'connection' : 'variable';
  const base = kind === 'connections' ? ctx.connectionsPath : ctx.variablesPath;
  const pathKey = `${kind}_path`;
  const ids = (kind === 'connections' ? ctx.connIds : ctx.varKeys) ?? [];
  const upFix = ctx.sandbox
    ? `${selfCommand()} up ${shellArg(ctx.sandbox.dir)} (re-seeds from ${ctx.sandbox.config.label})`
    : undefined;
  if (base === null) {
    if (!ids.length) return ok(`${pathKey} is null: Airflow does not ask Vault for ${kind}, and none are expected`);
    return {
      ...fail(
        `${pathKey} is null: Airflow never asks Vault for ${kind}, so ${ids.join(', ')} cannot come from Vault`,
        kwargsFix(ctx, { remove: [pathKey] }),
      ),
      link: 'mount and path',
    };
  }
  if (ctx.mount === null) {
    // VaultBackend._parse_path: with no mount_point the id itself must be '<mount>/<id>'; a bare id is never looked up.
    const bare = ids.filter((id) => !id.includes('/'));
    if (bare.length) {
      const [m, ...rest] = (base ?? '').split('/').filter(Boolean);
      return {
        ...fail(
          `mount_point is null: VaultBackend takes the mount from the id itself ('<mount>/<id>'), so ${bare.join(', ')} (no '/') ${bare.length > 1 ? 'are' : 'is'} never looked up in Vault`,
          kwargsFix(ctx, { set: { mount_point: m ?? 'secret', [pathKey]: rest.join('/') || kind } }),
        ),
        link: 'mount and path',
      };
    }
  }
  const where = effectiveMount(ctx.mount, base);
  if (!where) return fail(`mount_point is null and ${pathKey} '${base}' names no mount`, `set "mount_point": "secret"`);
  const { mount, path: basePath } = where;
  const kv = ctx.kvVersion ?? 2;
  const client = airflowClient(ctx, ctx.airflowToken);
  let list = ids;
  if (!list.length) {
    // A least-privilege token (the sandbox's AppRole) may read but not list: list with the sandbox's root token when there is one.
    const lister = ctx.serverToken ? ctx.client!.withToken(ctx.serverToken) : client;
    const listed = await lister.listSecrets(mount, basePath, kv).catch(() => []);
    list = listed.filter((k) => !k.endsWith('/'));
  }
  if (!list.length) {
    // The sandbox recorded what it seeded: none of this kind is expected, so none listed is right.
    const seeded = kind === 'connections' ? ctx.sandbox?.seeded?.connections : ctx.sandbox?.seeded?.variables;
    if (seeded && !seeded.length) return ok(`none seeded by the sandbox, and none listed under ${mount}/${basePath}/`);
    return warn(
      `no ${kind} known (${knownFrom(ctx)}) and none listed under ${mount}/${basePath}/`,
      kind === 'connections'
        ? (upFix ?? `vault kv put ${mount}/${basePath}/smtp_default conn_uri=smtps://user:pass@host:465`)
        : undefined,
    );
  }
  const missing: string[] = [];
  const forbidden: string[] = [];
  const broken: string[] = [];
  const differs: string[] = [];
  const errors: string[] = [];
  const lines: string[] = [];
  // Airflow asks the env vars after Vault: an id one of them holds still resolves when Vault fails it.
  const standIn = (id: string) =>
    ctx.env.get(`${kind === 'connections' ? 'AIRFLOW_CONN_' : 'AIRFLOW_VAR_'}${id.toUpperCase()}`) !== undefined;
  const covered: string[] = [];
  for (const id of list) {
    const path = secretPath(basePath, id);
    let data: Record<string, unknown> | null;
    try {
      data = await client.readSecret(mount, path, kv);
    } catch (e) {
      const err = e as VaultError;
      if (err.status === 403) forbidden.push(`${mount}/${path}`);
      else errors.push(`${id}: ${err.message}`);
      continue;
    }
    if (!data) {
      missing.push(`${mount}/${path}`);
      continue;
    }
    if (kind === 'connections') {
      const problem = secretShapeProblem(data, ctx.airflow?.major);
      if (problem) broken.push(`${id} (${mount}/${path}): ${problem}`);
      const want = ctx.config?.connections?.[id];
      if (want !== undefined && typeof data.conn_uri === 'string' && want !== data.conn_uri) differs.push(id);
      lines.push(
        `${mount}/${path}: ${typeof data.conn_uri === 'string' && data.conn_uri ? 'conn_uri' : `fields ${Object.keys(data).sort().join(', ')}`}`,
      );
    } else {
      if (!('value' in data))
        broken.push(
          `${id} (${mount}/${path}): no "value" key (keys: ${Object.keys(data).join(', ') || 'none'}); VaultBackend logs a warning and returns nothing`,
        );
      const want = ctx.config?.variables?.[id];
      if (want !== undefined && 'value' in data && String(data.value) !== want) differs.push(id);
      lines.push(`${mount}/${path}: value`);
    }
  }
  for (const bucket of [missing, forbidden, broken, errors]) {
    for (let i = bucket.length - 1; i >= 0; i--) {
      const id = list.find(
        (x) =>
          bucket[i]!.includes(secretPath(basePath, x)) ||
          bucket[i]!.startsWith(`${x}:`) ||
          bucket[i]!.startsWith(`${x} (`),
      );
      if (id && standIn(id)) {
        covered.push(`${id} (${bucket[i]})`);
        bucket.splice(i, 1);
      }
    }
  }
  if (forbidden.length) {
    const hint = await policyHint(ctx, mount, basePath);
    return {
      ...fail(
        `Airflow's token may not read ${forbidden.join(', ')} (HTTP 403: its policies ${(ctx.policies ?? []).join(', ') || 'none'} do not grant read there).${hint}`,
        policyFix(ctx, mount, basePath),
      ),
      link: 'policy',
    };
  }
  if (missing.length) {
    return {
      ...fail(
        `nothing at ${missing.join(', ')} (mount '${mount}', ${pathKey} '${basePath}'): Airflow says "isn't defined" unless another backend holds it`,
        upFix ?? `check mount_point and ${pathKey}, then vault kv put the secret there`,
      ),
      link: 'mount and path',
    };
  }
  if (errors.length) return { ...fail(errors.join('; ')), link: 'address/TLS/proxy' };
  if (broken.length) {
    const fix =
      kind === 'connections'
        ? 'store conn_uri=<uri>, or only Connection fields (conn_type, host, login, password, schema, port, extra)'
        : 'store the variable as value=<value>';
    return { ...fail(broken.join('; '), fix), link: 'secret shape' };
  }
  if (covered.length) {
    const prefix = kind === 'connections' ? 'AIRFLOW_CONN_' : 'AIRFLOW_VAR_';
    return {
      ...warn(
        `Vault does not answer for ${covered.join('; ')}, but an ${prefix}* env var does, so Airflow resolves it from the env var, not from Vault`,
        `unset the ${prefix}* variable(s) to see Vault's answer`,
        lines,
      ),
      link: 'shadowing',
    };
  }
  if (differs.length)
    return warn(
      `Vault holds other values than ${ctx.sandbox?.config.label ?? 'the config'} for ${differs.join(', ')}`,
      upFix,
      lines,
    );
  return ok(`${list.length} found where VaultBackend looks: ${list.join(', ')}`, lines);
}
