/** HOST:PORT parsing, the loopback rule, and picking a free port. */
import { createServer, isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_ADDRESS: ListenAddress = { host: '127.0.0.1', port: 8200 };

export function parseAddress(value: string, flag = '--address'): ListenAddress {
  const v = value
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  const m = v.match(/^\[([0-9a-fA-F:.]+)\]:(\d+)$/) ?? v.match(/^([^:\s/]+):(\d+)$/);
  if (!m) {
    // An IPv6 host needs brackets, or its colons read as the port's.
    const v6 = v.match(/^([0-9a-fA-F:]*:[0-9a-fA-F:]*):(\d+)$/);
    throw new UsageError(
      `${flag} '${value}' is not HOST:PORT; write it like ${v6 ? `[${v6[1]}]:${v6[2]} (an IPv6 host in brackets)` : '127.0.0.1:8200'}`,
    );
  }
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    // 65535 is out too: the dev server also binds PORT+1 for its cluster listener.
    throw new UsageError(`${flag} '${value}' has port ${m[2]}, outside 1-65534; pick a port like 8200`);
  }
  const host = m[1] as string;
  const bad = hostProblem(host);
  if (bad)
    throw new UsageError(
      `${flag} '${value}' has host '${host}', which ${bad}; write an IP address or a host name, like 127.0.0.1:8200`,
    );
  return { host, port };
}

/** A DNS name as RFC 1123 writes it: labels of letters, digits and inner hyphens. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Why a listen host is no address at all (127.0.0.999, a bad IPv6, a name with `_`), or null. */
function hostProblem(host: string): string | null {
  if (host.includes(':')) return isIPv6(host) ? null : 'is not an IPv6 address';
  // All digits and dots is meant as IPv4 (a name's last label is never all digits).
  if (/^[\d.]+$/.test(host)) return isIPv4(host) ? null : 'is not an IPv4 address (four numbers 0-255)';
  return HOST_NAME.test(host) ? null : 'is not a host name';
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

export function formatAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function addressUrl(a: ListenAddress, tls = false): string {
  return `${tls ? 'https' : 'http'}://${formatAddress(a)}`;
}

/** Why nothing can listen on an address whatever runs there: bad input, not a taken port. */
const CANNOT_LISTEN: Record<string, string> = {
  EADDRNOTAVAIL: 'is not an address of this machine',
  ENOTFOUND: 'does not resolve',
  EAI_AGAIN: 'does not resolve',
  EACCES: 'needs more privileges to listen on (ports below 1024 need root)',
};

/** Whether a server could listen on `a` now: false when something holds it; a UsageError when nothing ever could. */
export function portIsFree(a: ListenAddress): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code ? CANNOT_LISTEN[e.code] : undefined;
      if (why) reject(new UsageError(`${formatAddress(a)} ${why}; pick another address with --address`));
      else resolve(false);
    });
    srv.listen({ host: a.host, port: a.port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Where a dev server listening on `a` binds its cluster listener: PORT+1, on Vault and OpenBao
 * alike (both print it as `Cluster Address` at start-up). When that bind fails the server only
 * logs it and serves on, so the tool checks it up front instead.
 */
export function clusterAddress(a: ListenAddress): ListenAddress {
  return { host: a.host, port: a.port + 1 };
}

/**
 * The first of the ports a dev server on `a` binds (its own, then the cluster port) that is taken,
 * or null. The ports of `releasing`, a server about to be stopped, count as free.
 */
export async function takenDevServerPort(
  a: ListenAddress,
  releasing?: ListenAddress,
  isFree: (a: ListenAddress) => Promise<boolean> = portIsFree,
): Promise<ListenAddress | null> {
  const held = releasing ? [releasing, clusterAddress(releasing)].map(formatAddress) : [];
  for (const p of [a, clusterAddress(a)]) {
    if (!held.includes(formatAddress(p)) && !(await isFree(p))) return p;
  }
  return null;
}

/**
 * The first address from `a.port` upwards (bounded) where a dev server can bind both its port and
 * its cluster port, so a pick never lands on another server's cluster port nor takes one away.
 */
export async function nextFreeAddress(
  a: ListenAddress,
  tries = 50,
  isFree: (a: ListenAddress) => Promise<boolean> = portIsFree,
): Promise<ListenAddress | null> {
  for (let port = a.port; port < Math.min(a.port + tries, 65535); port++) {
    const candidate = { host: a.host, port };
    if (!(await takenDevServerPort(candidate, undefined, isFree))) return candidate;
  }
  return null;
}
