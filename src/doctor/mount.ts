import { serverClient, airflowsClient } from './clients.js';
import { kwargsFix } from './fixes.js';
import { missFix } from './policy-or-path.js';
import { type CheckInput, defineCheck, fail, ok, skip } from './types.js';
import type { VaultClient } from '../vault/client.js';

/** The mount VaultBackend reads from: mount_point, or with mount_point null the first segment of each path. */
export function effectiveMount(
  mount: string | null | undefined,
  path: string | null | undefined,
): { mount: string; path: string } | null {
  if (mount) return { mount, path: path ?? '' };
  if (!path) return null;
  const [m, ...rest] = path.split('/');
  return m ? { mount: m, path: rest.join('/') } : null;
}

/** A KV mount Airflow could be pointed at instead: the sandbox config's, else the provider's default. */
async function otherMount(ctx: CheckInput<'address'>, client: VaultClient, wrong: string): Promise<string | undefined> {
  const candidates = [ctx.config?.vault?.mount, 'secret'].filter((m): m is string => !!m && m !== wrong);
  for (const m of candidates) {
    const info = await client.mountInfo(m).catch(() => null);
    if (info?.type === 'kv' && info.path === m) return m;
  }
  return undefined;
}

export const mount = defineCheck({
  id: 'mount',
  title: 'KV mount',
  link: 'mount and path',
  needs: ['address', 'token'],
  verdict: true,
  async run(ctx) {
    const where = effectiveMount(ctx.mount, ctx.connectionsPath ?? ctx.variablesPath);
    if (!where) return ok('mount_point is null: each id names its own mount');
    const m = where.mount;
    if (ctx.kvVersion === undefined) return fail('kv_engine_version is not 1 or 2 (see the kwargs check)');
    const admin = serverClient(ctx);
    const client = admin ?? airflowsClient(ctx);
    if (!client)
      return skip(`what is mounted at '${m}/' needs a request with Airflow's token, whose uses doctor does not spend`);
    const info = await client.mountInfo(m).catch((e: Error) => e);
    if (info instanceof Error) return skip(`cannot tell what is mounted at '${m}/': ${info.message}`);
    if (!info || info.path !== m) {
      // A least-privilege token sees only the mounts it may use: "nothing" may mean "not for this token".
      if (!admin && !ctx.login.policies.includes('root'))
        return skip(
          `nothing at '${m}/' is visible to Airflow's token (policies: ${ctx.login.policies.join(', ') || 'none'})`,
        );
      const other = await otherMount(ctx, client, m);
      // Else where Airflow's token finds the first id (another mount, another namespace).
      const id = ctx.connIds?.[0];
      const at = { mount: m, base: where.path.replace(/^\/+|\/+$/g, ''), kv: ctx.kvVersion };
      const elsewhere = !other && id ? await missFix(ctx, 'connections', at, id) : undefined;
      return fail(
        `nothing is mounted at '${m}/'${info ? ` (the path belongs to '${info.path}/')` : ''}: every lookup misses`,
        other ? kwargsFix(ctx, { mount_point: { set: other } }) : elsewhere,
      );
    }
    if (info.type !== 'kv') return fail(`'${m}/' is a ${info.type} engine, not KV`);
    if (info.kvVersion !== ctx.kvVersion)
      return fail(
        `'${m}/' is KV v${info.kvVersion}, but kv_engine_version is ${ctx.kvVersion}: every lookup misses and Airflow says "isn't defined"`,
        kwargsFix(ctx, { kv_engine_version: { set: info.kvVersion } }),
      );
    return ok(`'${m}/' is KV v${info.kvVersion}, as kv_engine_version says`);
  },
});
