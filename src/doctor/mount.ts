import { kwargsFix } from './backend-kwargs.js';
import { airflowClient, type Check, fail, ok, skip, warn } from './types.js';

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

export const mount: Check = {
  id: 'mount',
  title: 'KV mount',
  link: 'mount and path',
  needs: ['token'],
  async run(ctx) {
    const where = effectiveMount(ctx.mount, ctx.connectionsPath ?? ctx.variablesPath);
    if (!where) return skip('mount_point is null and no path names a mount');
    const m = where.mount;
    const kvFix = (v: number) =>
      `vault secrets enable -path=${m} -version=${v} kv, or fix mount_point in AIRFLOW__SECRETS__BACKEND_KWARGS`;
    if (ctx.kvVersion === undefined) return fail(`kv_engine_version is not 1 or 2 (see the kwargs check)`, undefined);
    const want = ctx.kvVersion;
    const client = airflowClient(ctx, ctx.airflowToken);
    const info = await client.mountInfo(m).catch((e: Error) => e);
    if (info instanceof Error)
      return warn(`cannot tell what is mounted at '${m}/' with Airflow's token: ${info.message}`);
    if (!info || info.path !== m) {
      // A least-privilege token sees only the mounts it may use, so "nothing" may mean "not for this token".
      const scope =
        ctx.policies && !ctx.policies.includes('root') ? ' (or not visible to a token with these policies)' : '';
      return fail(
        `nothing is mounted at '${m}/'${info ? ` (the path belongs to '${info.path}/')` : ''}${scope}`,
        kvFix(want),
      );
    }
    if (info.type !== 'kv') return fail(`'${m}/' is a ${info.type} engine, not KV`, 'point mount_point at a KV mount');
    if (info.kvVersion !== want) {
      return fail(
        `'${m}/' is KV v${info.kvVersion}, but kv_engine_version is ${want}: every lookup misses and Airflow says "isn't defined"`,
        kwargsFix(ctx, { set: { kv_engine_version: info.kvVersion } }),
      );
    }
    return ok(`'${m}/' is KV v${info.kvVersion}, as kv_engine_version says`);
  },
};
