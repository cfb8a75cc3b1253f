/**
 * TLS as Airflow will meet it: the certificate verified against the CA Airflow is given (`verify`
 * as a path, else REQUESTS_CA_BUNDLE), else the system's roots. Failures come from the client's
 * error kinds (node's TLS codes), explained by src/vault/tls-explain.ts: an untrusted CA, a host
 * name the certificate does not list, an expired certificate, an unreadable CA file. http-vs-https
 * is the scheme check's to say.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { VaultError } from '../vault/client.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import { caFileOf } from './address.js';
import { kwargsFix, toolMade, upFix, YOUR_CA_FILE } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, skip } from './types.js';

/** A CA file that exists and is not the one Airflow is given: the sandbox server's own, else VAULT_CACERT. */
function knownCa(ctx: CheckInput, current: string | undefined): string | undefined {
  const candidates = [ctx.paths?.caFile, ctx.env.get('VAULT_CACERT')];
  return candidates.find((c): c is string => c !== undefined && c !== current && existsSync(c));
}

/**
 * The sandbox's own CA, gone: the tool writes it while its server runs, so the server is down and
 * `up` (which starts it and writes the CA again) is the repair, not another CA.
 */
function ownCaGone(ctx: CheckInput, caFile: string | undefined): string | undefined {
  const own = ctx.paths?.caFile;
  if (!caFile || !own || resolve(caFile) !== resolve(own) || existsSync(own) || !toolMade(ctx)) return undefined;
  return upFix(ctx);
}

export const tls = defineCheck({
  id: 'tls',
  title: 'TLS certificate',
  link: 'address/TLS/proxy',
  needs: ['address'],
  verdict: true,
  async run(ctx) {
    const url = ctx.url;
    const https = url.protocol === 'https:';
    if (https && ctx.access.verify === false)
      return skip('verify is false: Airflow does not check the certificate, and doctor never skips that check');
    const caFile = caFileOf(ctx);
    try {
      await ctx.client.health();
      if (!https) return ok('plain http: no certificate to verify');
      return ok(`verified against ${caFile ? `the CA in ${caFile}` : "the system's trusted CAs"}`);
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      const why = https ? describeVaultFailure(e, url.origin, caFile) : null;
      // Not a certificate problem (refused, a timeout, the other scheme): nothing was verified, so
      // nothing is claimed; the scheme and reachability checks name what it is.
      if (!why || e.kind === 'scheme')
        return skip('cannot tell: no answer to verify a certificate on (see "http or https" and "Server reachable")');
      const ca = knownCa(ctx, caFile);
      const untrusted = e.kind === 'tls-untrusted' || e.kind === 'ca-file';
      const restart = e.kind === 'ca-file' ? ownCaGone(ctx, caFile) : undefined;
      if (restart) return fail(`${why.problem}: the sandbox writes it while its server runs`, restart);
      if (!untrusted) return fail(why.problem, why.fix);
      // Airflow's requests verifies against `verify` alone (the provider builds its session), so that is the key.
      const fix = ca
        ? kwargsFix(ctx, { verify: { set: ca } })
        : `${kwargsFix(ctx, { verify: { set: YOUR_CA_FILE } })}  # the PEM file of the CA that signed the server's certificate`;
      return fail(why.problem, fix);
    }
  },
});
