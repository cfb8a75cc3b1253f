import { isLoopback } from '../vault/address.js';
import { VaultClient } from '../vault/client.js';
import { type Check, fail, ok, warn } from './types.js';

/** hvac.Client's default when neither url nor VAULT_ADDR is set. */
const HVAC_DEFAULT_URL = 'http://localhost:8200';

export const address: Check = {
  id: 'address',
  title: 'Vault address',
  link: 'address/TLS/proxy',
  provides: ['url', 'client'],
  async run(ctx) {
    const fromKwargs = typeof ctx.kwargs?.url === 'string' && ctx.kwargs.url ? ctx.kwargs.url : undefined;
    // hvac reads VAULT_ADDR when VaultBackend passes url=None; never BAO_ADDR.
    const raw = fromKwargs ?? ctx.env.get('VAULT_ADDR') ?? HVAC_DEFAULT_URL;
    const source = fromKwargs
      ? `url in the kwargs (${ctx.kwargsSource})`
      : ctx.env.get('VAULT_ADDR')
        ? `VAULT_ADDR (${ctx.envFileKeys.has('VAULT_ADDR') ? ctx.envSource : 'the shell'})`
        : "hvac's default, as neither a url kwarg nor VAULT_ADDR is set";
    let url: URL;
    try {
      url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return fail(
        `${source} is '${raw}', which is not an http:// or https:// URL`,
        `write it as http://127.0.0.1:8200`,
      );
    }
    if (url.pathname !== '/' && url.pathname !== '') {
      return fail(`${source} '${raw}' has a path; hvac appends /v1/... to it`, `use just the origin: ${url.origin}`);
    }
    const caFile =
      typeof ctx.kwargs?.verify === 'string' ? ctx.kwargs.verify : ctx.env.get('VAULT_CACERT') || undefined;
    // The root namespace: sys/health answers only there; the checks that read secrets add the kwargs' namespace.
    const client = new VaultClient({ url: url.origin, timeoutMs: 3000, caFile });
    const facts = { url, client };
    if (!isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) {
      return warn(
        `${url.origin} (from ${source}) is not on loopback`,
        'a dev server should listen on 127.0.0.1 only',
        undefined,
        facts,
      );
    }
    return ok(`${url.origin} (from ${source})`, undefined, facts);
  },
};
