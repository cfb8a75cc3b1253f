import { existsSync } from 'node:fs';
import { VaultError } from '../vault/client.js';
import { setUrl } from './fixes.js';
import { defineCheck, fail, ok, skip } from './types.js';

export const scheme = defineCheck({
  id: 'scheme',
  title: 'http or https',
  link: 'address/TLS/proxy',
  needs: ['address'],
  verdict: true,
  async run(ctx) {
    const url = ctx.url;
    try {
      await ctx.client.health();
      return ok(`${url.protocol.replace(':', '')} is what the server speaks`);
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      const other = new URL(url.href);
      if (e.kind === 'scheme' && url.protocol === 'http:') {
        other.protocol = 'https:';
        // A sandbox server with -dev-tls wrote its CA: Airflow must be told to trust it.
        const ca = ctx.paths && existsSync(ctx.paths.caFile) ? { verify: ctx.paths.caFile } : {};
        return fail(`${url.origin} uses http, but the server speaks HTTPS`, setUrl(ctx, other.origin, ca));
      }
      if (e.kind === 'scheme') {
        other.protocol = 'http:';
        return fail(
          `${url.origin} uses https, but the server speaks plain HTTP (a dev server does unless started with -dev-tls, which the sandbox's --tls uses)`,
          setUrl(ctx, other.origin),
        );
      }
      if (e.kind === 'not-vault')
        return fail(
          `${url.origin} answered, but not like Vault: something else listens there (or an https-only server)`,
        );
      return skip(`cannot tell: ${e.message}`);
    }
  },
});
