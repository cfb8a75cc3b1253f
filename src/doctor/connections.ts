import { selfCommand, shellArg } from '../ui/invocation.js';
import { connUriProblem } from '../airflow/connection.js';
import { secretPath } from '../airflow/backend.js';
import { type Check, fail, ok, warn } from './types.js';

export const connections: Check = {
  id: 'connections',
  title: 'Connections in Vault',
  needs: ['mount', 'policy'],
  async run(ctx) {
    const client = ctx.client!;
    const mount = ctx.mount ?? 'secret';
    const base = ctx.connectionsPath ?? 'connections';
    const kv = ctx.kvVersion ?? 2;
    let ids = ctx.connIds ?? [];
    // Airflow's own token may read but not list (a least-privilege AppRole): list with the sandbox's root token when there is one.
    const lister = ctx.serverToken ? client.withToken(ctx.serverToken) : client;
    if (!ids.length && kv === 2) ids = (await lister.kvList(mount, base).catch(() => [])).filter((k) => !k.endsWith('/'));
    ctx.connIds = ids;
    if (!ids.length) {
      return warn(`no connections under ${mount}/${base}/`, ctx.paths ? `${selfCommand()} up ${shellArg(ctx.paths.dir)}` : `vault kv put ${mount}/${base}/smtp_default conn_uri=smtps://user:pass@host:465`);
    }
    const missing: string[] = [];
    const broken: string[] = [];
    const differs: string[] = [];
    const lines: string[] = [];
    for (const id of ids) {
      const path = secretPath(base, id);
      const data = await client.readSecret(mount, path, kv).catch(() => null);
      if (!data) {
        missing.push(`${mount}/${path}`);
        continue;
      }
      if (typeof data.conn_uri === 'string') {
        const p = connUriProblem(data.conn_uri);
        if (p) broken.push(`${id}: conn_uri ${p}`);
        const want = ctx.config?.connections?.[id];
        if (want !== undefined && want !== data.conn_uri) differs.push(id);
        lines.push(`${mount}/${path}: conn_uri`);
      } else if (typeof data.conn_type === 'string') {
        lines.push(`${mount}/${path}: fields ${Object.keys(data).sort().join(', ')}`);
      } else {
        broken.push(`${id}: neither conn_uri nor conn_type at ${mount}/${path} (keys: ${Object.keys(data).join(', ') || 'none'})`);
      }
    }
    const upFix = ctx.paths ? `${selfCommand()} up ${shellArg(ctx.paths.dir)} (re-seeds from secrets-sandbox.yaml)` : undefined;
    if (missing.length) return fail(`nothing at ${missing.join(', ')}: Airflow says "isn't defined" for these`, upFix ?? 'check mount_point and connections_path, then vault kv put the secret there');
    if (broken.length) return fail(broken.join('; '), 'store a URI Airflow parses (percent-encode / # ? in passwords) or conn_type with the other fields');
    if (differs.length) return warn(`Vault holds other values than secrets-sandbox.yaml for ${differs.join(', ')}`, upFix, lines);
    return ok(`${ids.length} found where VaultBackend looks: ${ids.join(', ')}`, lines);
  },
};
