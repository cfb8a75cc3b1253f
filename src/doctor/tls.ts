/**
 * TLS as Airflow will meet it: the certificate verified against the CA Airflow is given (`verify`
 * or VAULT_CACERT), else the system's roots. Failures come from the client's error kinds (node's
 * TLS codes), explained by src/vault/tls-explain.ts: an untrusted CA, a host name the certificate
 * does not list, an expired certificate, an unreadable CA file.
 */
import { VaultError } from '../vault/client.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import { type Check, fail, ok } from './types.js';

export const tls: Check = {
  id: 'tls',
  title: 'TLS certificate',
  needs: ['address'],
  async run(ctx) {
    const url = ctx.url!;
    if (url.protocol !== 'https:') return ok('plain http: no certificate to verify');
    try {
      await ctx.client!.health();
      return ok(`verified against ${ctx.caFile ? `the CA in ${ctx.caFile}` : "the system's trusted CAs"}`);
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      const why = describeVaultFailure(e, url.origin, ctx.caFile);
      // The scheme check says http-vs-https; other failures are the reachability check's to name.
      if (!why || e.kind === 'scheme') return ok(`nothing to verify yet (${e.kind})`);
      return fail(why.problem, why.fix);
    }
  },
};
