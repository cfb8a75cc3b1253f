import type { VaultError } from '../vault/client.js';
import { kwargsFix } from './backend-kwargs.js';
import { type Check, fail, ok, skip } from './types.js';

export const scheme: Check = {
  id: 'scheme',
  title: 'http or https',
  link: 'address/TLS/proxy',
  needs: ['address'],
  async run(ctx) {
    const url = ctx.url!;
    try {
      await ctx.client!.health();
      return ok(`${url.protocol.replace(':', '')} is what the server speaks`);
    } catch (e) {
      const err = e as VaultError;
      const plain = new URL(url.href);
      if (err.kind === 'scheme' && url.protocol === 'http:') {
        const secure = new URL(url.href);
        secure.protocol = 'https:';
        return fail(
          `${url.origin} uses http, but the server speaks HTTPS`,
          `use ${secure.origin} in VAULT_ADDR and in the url of AIRFLOW__SECRETS__BACKEND_KWARGS, with "verify" and VAULT_CACERT set to its CA`,
        );
      }
      if (err.kind === 'scheme') {
        plain.protocol = 'http:';
        const fix =
          typeof ctx.kwargs?.url === 'string'
            ? kwargsFix(ctx, { set: { url: plain.origin } })
            : `export VAULT_ADDR=${plain.origin}`;
        return fail(
          `${url.origin} uses https, but the server speaks plain HTTP (a dev server does unless started with -dev-tls, which the sandbox's --tls uses)`,
          fix,
        );
      }
      if (err.kind === 'not-vault') {
        const secure = new URL(url.href);
        secure.protocol = 'https:';
        return fail(
          `${url.origin} answered, but not like Vault: an https-only server (or something else) is listening`,
          `if it was started with -dev-tls, use ${secure.origin} and set VAULT_CACERT`,
        );
      }
      return skip(`cannot tell: ${err.message}`);
    }
  },
};
