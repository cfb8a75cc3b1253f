/**
 * TLS as Airflow will meet it: the certificate verified against the CA Airflow is given (`verify`
 * as a path, else REQUESTS_CA_BUNDLE), else the system's roots. Failures come from the client's
 * error kinds (node's TLS codes), explained by src/vault/tls-explain.ts: an untrusted CA, a host
 * name the certificate does not list, an expired certificate, an unreadable CA file. http-vs-https
 * is the scheme check's to say.
 */
import { existsSync } from 'node:fs';
import { VaultError } from '../vault/client.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import { caFileOf } from './address.js';
import { kwargsFix } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, skip } from './types.js';

/** A CA file that exists and is not the one Airflow is given: the sandbox server's own, else VAULT_CACERT. */
function knownCa(ctx: CheckInput, current: string | undefined): string | undefined {
  const candidates = [ctx.paths?.caFile, ctx.env.get('VAULT_CACERT')];
  return candidates.find((c): c is string => c !== undefined && c !== current && existsSync(c));
}

export const tls = defineCheck({
  id: 'tls',
  title: 'TLS certificate',
  link: 'address/TLS/proxy',
  needs: ['address'],
  verdict: true,
  async run(ctx) {
    const url = ctx.url;
    if (url.protocol !== 'https:') return ok('plain http: no certificate to verify');
    if (ctx.access.verify === false)
      return skip('verify is false: Airflow does not check the certificate, and doctor never skips that check');
    const caFile = caFileOf(ctx);
    try {
      await ctx.client.health();
      return ok(`verified against ${caFile ? `the CA in ${caFile}` : "the system's trusted CAs"}`);
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      const why = describeVaultFailure(e, url.origin, caFile);
      // Not a certificate problem (refused, scheme, timeout): the checks after this one name it.
      if (!why || e.kind === 'scheme') return ok(`no certificate problem seen (${e.kind})`);
      const ca = knownCa(ctx, caFile);
      const untrusted = e.kind === 'tls-untrusted' || e.kind === 'ca-file';
      return fail(why.problem, untrusted && ca ? kwargsFix(ctx, { verify: { set: ca } }) : why.fix);
    }
  },
});
