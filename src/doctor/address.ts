import { describeSource } from '../airflow/backend/index.js';
import { isLoopback } from '../vault/address.js';
import { VaultClient } from '../vault/client.js';
import { doctorsCaFile } from './clients.js';
import { kwargsFix } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, warn } from './types.js';

/** Where the url Airflow uses came from: a kwarg (JSON or per-key), VAULT_ADDR, or hvac's default. */
export function urlSource(ctx: CheckInput): string {
  if (ctx.access.urlFrom === 'kwargs') {
    const s = ctx.backend.keySources.url;
    return s ? `the url kwarg (${describeSource(s)})` : 'the url kwarg';
  }
  if (ctx.access.urlFrom === 'VAULT_ADDR')
    return `VAULT_ADDR (${ctx.envFileKeys.has('VAULT_ADDR') ? `in ${ctx.envSource}` : 'from your shell'}; no url kwarg)`;
  return "hvac's default, as neither a url kwarg nor VAULT_ADDR is set";
}

/** The CA file Airflow's requests verify the server with, when it names one. */
export function caFileOf(ctx: CheckInput): string | undefined {
  return typeof ctx.access.verify === 'string' ? ctx.access.verify : ctx.access.caBundleFromEnv;
}

export const address = defineCheck({
  id: 'address',
  title: 'Vault address',
  link: 'address/TLS/proxy',
  verdict: true,
  async run(ctx) {
    const raw = ctx.access.url;
    const source = urlSource(ctx);
    let url: URL;
    try {
      url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('scheme');
    } catch {
      return fail(
        `${source} is '${raw}', which is not an http:// or https:// URL`,
        ctx.access.urlFrom === 'kwargs' && ctx.state ? kwargsFix(ctx, { url: { set: ctx.state.url } }) : undefined,
      );
    }
    if (url.pathname !== '/' && url.pathname !== '')
      return fail(
        `${source} '${raw}' has a path; hvac appends /v1/... to it`,
        ctx.access.urlFrom === 'kwargs'
          ? kwargsFix(ctx, { url: { set: url.origin } })
          : `export VAULT_ADDR=${url.origin}`,
      );
    // The root namespace: sys/health answers only there; the checks that read secrets add the kwargs' namespace.
    const client = new VaultClient({
      url: url.origin,
      timeoutMs: 3000,
      caFile: doctorsCaFile(ctx.access, ctx.env, ctx.sandbox),
    });
    const facts = { url, client };
    if (!isLoopback(url.hostname.replace(/^\[|\]$/g, '')))
      return warn(`${url.origin} (from ${source}) is not on loopback`, undefined, undefined, facts);
    return ok(`${url.origin} (from ${source})`, undefined, facts);
  },
});
