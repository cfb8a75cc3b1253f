/**
 * TLS as Airflow will meet it: the certificate verified against the CA Airflow is given (`verify`
 * as a path, else VAULT_CACERT), else the system's roots. Failures come from the client's error
 * kinds (node's TLS codes), explained by src/vault/tls-explain.ts: an untrusted CA, a host name the
 * certificate does not list, an expired certificate, an unreadable CA file. http-vs-https is the
 * scheme check's to say.
 */
import { VaultError } from '../vault/client.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import { type Check, fail, ok, skip } from './types.js';

export const tls: Check = {
  id: 'tls',
  title: 'TLS certificate',
  link: 'address/TLS/proxy',
  needs: ['address'],
  async run(ctx) {
    const url = ctx.url!;
    const caFile =
      typeof ctx.kwargs?.verify === 'string' ? ctx.kwargs.verify : ctx.env.get('VAULT_CACERT') || undefined;
    try {
      await ctx.client!.health();
      if (url.protocol !== 'https:') return ok('plain http: no certificate to verify');
      return ok(`verified against ${caFile ? `the CA in ${caFile}` : "the system's trusted CAs"}`);
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      const why = url.protocol === 'https:' ? describeVaultFailure(e, url.origin, caFile) : null;
      // Not a certificate problem (refused, a timeout, the other scheme): nothing was verified, so
      // nothing is claimed; the scheme and reachability checks name what it is.
      if (!why || e.kind === 'scheme')
        return skip('cannot tell: no answer to verify a certificate on (see "http or https" and "Server reachable")');
      return fail(why.problem, why.fix);
    }
  },
};
