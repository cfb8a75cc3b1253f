import { isIP } from 'node:net';
import { type Check, fail, ok, skip } from './types.js';

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
  return (n(ip) & mask) === (n(net!) & mask);
}

/**
 * Python's requests (under hvac) sends Airflow's Vault requests through HTTP(S)_PROXY unless NO_PROXY
 * covers the address. This tool's own client ignores proxies, so only this check sees it.
 */
export const proxy: Check = {
  id: 'proxy',
  title: 'Proxy between Airflow and Vault',
  link: 'address/TLS/proxy',
  needs: ['address'],
  async run(ctx) {
    const url = ctx.url!;
    if (ctx.kwargs && 'proxies' in ctx.kwargs) return skip('the kwargs set proxies for hvac explicitly');
    const get = (n: string) => ctx.env.get(n.toLowerCase()) ?? ctx.env.get(n.toUpperCase());
    const scheme = url.protocol === 'https:' ? 'https_proxy' : 'http_proxy';
    const proxyUrl = get(scheme) ?? get('all_proxy');
    if (!proxyUrl) return ok(`no ${scheme.toUpperCase()} or ALL_PROXY in Airflow's environment`);
    const noProxy = get('no_proxy') ?? '';
    if (bypassesProxy(url, noProxy))
      return ok(`NO_PROXY (${noProxy}) covers ${url.host}, so requests goes straight to Vault`);
    let shown = proxyUrl;
    try {
      const p = new URL(proxyUrl);
      p.username = '';
      p.password = '';
      shown = p.origin;
    } catch {
      /* shown as set */
    }
    return fail(
      `${scheme.toUpperCase()}=${shown} and NO_PROXY does not cover ${url.hostname}: Airflow's requests send the Vault token through that proxy`,
      `export NO_PROXY="${[noProxy, url.hostname].filter(Boolean).join(',')}" (and no_proxy) in Airflow's environment`,
    );
  },
};
