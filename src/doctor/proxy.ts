import { isIP } from 'node:net';
import { request as httpRequest } from 'node:http';
import { envVarFix, kwargsFix } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, skip, warn } from './types.js';

/** requests' rule (utils.should_bypass_proxies): NO_PROXY entries match the host, a domain suffix, host:port, or an IP network. */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const rawEntry of noProxy.replace(/\s/g, '').split(',')) {
    const entry = rawEntry.toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (isIP(host) && entry.includes('/')) {
      if (inCidr(host, entry)) return true;
      continue;
    }
    const bare = entry.replace(/^\./, '');
    if (host === bare || `${host}:${port}` === entry || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (isIP(ip) !== 4 || isIP(net ?? '') !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const n = (a: string) => a.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (n(ip) & mask) === (n(net ?? '') & mask);
}

/** What a request through the proxy came to: a status from whatever answered, or why none came. */
type ProxyAnswer = { status: number } | { error: 'refused' | 'timeout' | 'other' };

/** GET <target>/v1/sys/health through an HTTP proxy, as requests sends a plain-http request through one. */
function throughProxy(proxy: URL, target: URL): Promise<ProxyAnswer> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { Host: target.host };
    if (proxy.username)
      headers['Proxy-Authorization'] =
        `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
    const req = httpRequest(
      {
        host: proxy.hostname.replace(/^\[|\]$/g, ''),
        port: Number(proxy.port || 80),
        method: 'GET',
        path: `${target.origin}/v1/sys/health`,
        headers,
        signal: AbortSignal.timeout(3000),
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        error:
          e.code === 'ECONNREFUSED'
            ? 'refused'
            : e.name === 'AbortError' || e.name === 'TimeoutError'
              ? 'timeout'
              : 'other',
      }),
    );
    req.end();
  });
}

/** The proxy requests would send Airflow's Vault requests through, and where that came from. */
function proxyFor(ctx: CheckInput<'address'>): { proxy: string; from: string; explicit: boolean } | undefined {
  const url = ctx.url;
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const kw = ctx.access.proxies;
  // The proxies kwarg is used whatever NO_PROXY says.
  const explicit = kw?.[scheme] ?? kw?.all;
  if (explicit) return { proxy: explicit, from: 'the proxies kwarg', explicit: true };
  const get = (n: string) => ctx.env.get(n.toLowerCase()) ?? ctx.env.get(n.toUpperCase());
  const fromEnv = get(`${scheme}_proxy`) ?? get('all_proxy');
  if (!fromEnv || bypassesProxy(url, get('no_proxy') ?? '')) return undefined;
  const name = get(`${scheme}_proxy`) ? `${scheme.toUpperCase()}_PROXY` : 'ALL_PROXY';
  return { proxy: fromEnv, from: name, explicit: false };
}

function shown(proxy: string): string {
  try {
    const p = new URL(proxy);
    return p.origin;
  } catch {
    return proxy;
  }
}

/**
 * Python's requests (under hvac) sends Airflow's Vault requests through the `proxies` kwarg, else
 * HTTP(S)_PROXY unless NO_PROXY covers the address. This tool's own client never uses a proxy, so
 * this check asks the proxy itself: one that refuses the connection, or answers for Vault with
 * something else than Vault, is proven in the way.
 */
export const proxy = defineCheck({
  id: 'proxy',
  title: 'Proxy between Airflow and Vault',
  link: 'address/TLS/proxy',
  needs: ['address'],
  verdict: true,
  async run(ctx) {
    const url = ctx.url;
    const p = proxyFor(ctx);
    if (!p) return ok(`no proxy: requests goes straight to ${url.host}`);
    const name = `${p.from} (${shown(p.proxy)})`;
    // requests reads no_proxy before NO_PROXY: the one set is the one to extend.
    const noProxy = ctx.env.has('no_proxy') ? 'no_proxy' : 'NO_PROXY';
    const fix = p.explicit
      ? kwargsFix(ctx, { proxies: { remove: true } })
      : envVarFix(ctx, noProxy, [ctx.env.get(noProxy), url.hostname].filter(Boolean).join(','));
    let proxyUrl: URL;
    try {
      proxyUrl = new URL(p.proxy.includes('://') ? p.proxy : `http://${p.proxy}`);
    } catch {
      return fail(`${name} is not a URL requests can use: every Vault request fails`, fix);
    }
    if (proxyUrl.protocol !== 'http:')
      return skip(`${name}: Airflow's requests go through it; whether it reaches Vault is Airflow's to find out`);
    const a = await throughProxy(proxyUrl, url);
    if ('error' in a && a.error === 'refused')
      return fail(`Airflow's requests go through ${name}, where nothing listens: every Vault request fails`, fix);
    if (url.protocol === 'https:')
      return skip(
        `${name}: Airflow's requests tunnel through it to ${url.host}; whether it lets them through is Airflow's to find out`,
      );
    if ('status' in a && [200, 429, 472, 473, 501, 503].includes(a.status))
      return warn(`Airflow's requests (with the token) go through ${name}, which reaches Vault`, fix);
    const what = 'status' in a ? `answers ${a.status} instead of Vault` : `gives no answer (${a.error})`;
    return fail(`Airflow's requests go through ${name}, which ${what}: every Vault request fails`, fix);
  },
});
