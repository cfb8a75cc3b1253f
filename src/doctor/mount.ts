import { type Check, fail, ok } from './types.js';

export const mount: Check = {
  id: 'mount',
  title: 'KV mount',
  needs: ['token'],
  async run(ctx) {
    const m = ctx.mount ?? 'secret';
    const want = ctx.kvVersion ?? 2;
    const info = await ctx.client!.mountInfo(m).catch((e: Error) => e);
    if (info instanceof Error) return fail(info.message);
    if (!info || info.path !== m) {
      return fail(`nothing is mounted at '${m}/'${info ? ` (the path belongs to '${info.path}/')` : ''}`, `vault secrets enable -path=${m} -version=${want} kv, or fix mount_point in AIRFLOW__SECRETS__BACKEND_KWARGS`);
    }
    if (info.type !== 'kv') return fail(`'${m}/' is a ${info.type} engine, not KV`, 'point mount_point at a KV mount');
    if (info.kvVersion !== want) {
      return fail(
        `'${m}/' is KV v${info.kvVersion}, but kv_engine_version is ${want}: every lookup misses and Airflow says "isn't defined"`,
        `set "kv_engine_version": ${info.kvVersion} (a JSON number) in AIRFLOW__SECRETS__BACKEND_KWARGS`,
      );
    }
    return ok(`'${m}/' is KV v${info.kvVersion}, as kv_engine_version says`);
  },
};
