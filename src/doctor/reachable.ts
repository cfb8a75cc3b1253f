import { relative } from 'node:path';
import { runningServers } from '../sandbox/index.js';
import { VaultClient, VaultError } from '../vault/client.js';
import { isAlive } from '../vault/server.js';
import { describeVaultFailure } from '../vault/tls-explain.js';
import { caFileOf, urlSource } from './address.js';
import { setUrl, toolMade, upFix, YOUR_ADDRESS } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, skip } from './types.js';

/** Another address that answers like Vault: the sandbox's running server, else VAULT_ADDR. */
async function answeringElsewhere(ctx: CheckInput<'address'>): Promise<string | undefined> {
  const running = ctx.sandbox ? runningServers(ctx.sandbox).server?.url : undefined;
  const candidates = [running, ctx.env.get('VAULT_ADDR')].filter(
    (u): u is string => u !== undefined && u !== '' && originOf(u) !== ctx.url.origin,
  );
  for (const u of new Set(candidates.map(originOf).filter((o): o is string => o !== undefined))) {
    const ok = await new VaultClient({ url: u, timeoutMs: 3000, caFile: caFileOf(ctx) })
      .health()
      .then(() => true)
      .catch(() => false);
    if (ok) return u;
  }
  return undefined;
}

function originOf(u: string): string | undefined {
  try {
    return new URL(u).origin;
  } catch {
    return undefined;
  }
}

export const reachable = defineCheck({
  id: 'reachable',
  title: 'Server reachable',
  link: 'address/TLS/proxy',
  // Not after "TLS certificate": when that one cannot tell (no answer), this one says why.
  needs: ['address'],
  verdict: true,
  repair: true,
  async run(ctx) {
    try {
      await ctx.client.health();
      return ok(`${ctx.url.origin} answers`);
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      if (e.kind === 'scheme') return fail('the server speaks another scheme (see "http or https")');
      if (e.kind.startsWith('tls') && ctx.access.verify === false)
        return skip('Airflow does not verify the certificate (verify false), and doctor always does');
      // A certificate problem is named by "TLS certificate"; not reachable would send the user the wrong way.
      if (describeVaultFailure(e, ctx.url.origin, caFileOf(ctx)))
        return skip('it answers, but its certificate stops the request: see "TLS certificate"');
      const what =
        e.kind === 'refused'
          ? `nothing listens on ${ctx.url.host}`
          : e.kind === 'timeout'
            ? `${ctx.url.host} does not answer`
            : `${ctx.url.origin} cannot be reached (${e.kind})`;
      const from = urlSource(ctx);
      const elsewhere = await answeringElsewhere(ctx);
      if (elsewhere)
        return {
          ...fail(`${what} (${from}), while the server answers at ${elsewhere}`, setUrl(ctx, elsewhere)),
          repairable: false,
        };
      const sb = toolMade(ctx);
      if (sb) {
        const pid = ctx.state?.pid;
        const stale =
          pid !== undefined && !isAlive(pid)
            ? ` (${relative(process.cwd(), sb.paths.state) || sb.paths.state} names pid ${pid}, which is gone)`
            : '';
        return fail(
          `${what}: the sandbox server is not running${stale}`,
          upFix(ctx, { newToken: ctx.state?.tokenSource !== 'user' }),
        );
      }
      // Not a sandbox this tool made, and nothing answers where it could look: only the user knows where their server is.
      return {
        ...fail(
          `${what} (${from}): no Vault server answers there`,
          `${setUrl(ctx, YOUR_ADDRESS)}  # the address your Vault server listens on (scheme, host and port)`,
        ),
        repairable: false,
      };
    }
  },
});
