/**
 * The only module that talks HTTP to Vault (not node-vault: deps.md §2): loopback requests never
 * go through HTTP_PROXY, errors never carry the token, KV v2 is typed, and one keep-alive pool
 * serves the whole run. Over node:http rather than `fetch`: the first `fetch` loads and compiles
 * undici, about 100 ms per command measured here (bench/results.md), more than the rest of doctor.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

// Idle keep-alive sockets are unref'd by the agent, so they never hold the CLI open.
const AGENTS = { http: new HttpAgent({ keepAlive: true, maxSockets: 16 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 16 }) };

function send(url: string, method: string, headers: Record<string, string>, payload: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    const req = (secure ? httpsRequest : httpRequest)(
      u,
      { method, headers, agent: secure ? AGENTS.https : AGENTS.http, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export type VaultErrorKind =
  | 'refused' // nothing listens there
  | 'scheme' // https spoken to a plain-HTTP server, or the reverse
  | 'timeout'
  | 'reset'
  | 'dns'
  | 'network'
  | 'http'; // the server answered with an error status

export class VaultError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly kind: VaultErrorKind,
    message: string,
    readonly status?: number,
    readonly vaultErrors: string[] = [],
  ) {
    super(`${method} ${path}: ${message}`);
    this.name = 'VaultError';
  }
}

export interface HealthBody {
  initialized?: boolean;
  sealed?: boolean;
  standby?: boolean;
  version?: string;
  cluster_name?: string;
}

export interface TokenInfo {
  policies: string[];
  displayName: string;
  ttl: number;
  path: string;
}

export interface MountInfo {
  path: string;
  type: string;
  /** KV version, 1 or 2, for a `kv` mount; null for other engines. */
  kvVersion: 1 | 2 | null;
}

export interface KvSecret {
  data: Record<string, unknown>;
  version: number;
}

export interface VaultClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8200 */
  url: string;
  token?: string;
  timeoutMs?: number;
}

interface Envelope<T> {
  data?: T;
  errors?: string[];
  warnings?: string[] | null;
}

/** Meaning of each /sys/health status code (vault.md §4.1), for messages. */
export const HEALTH_STATUS: Record<number, string> = {
  200: 'initialized, unsealed and active',
  429: 'unsealed but in standby',
  472: 'a disaster-recovery secondary',
  473: 'a performance standby',
  501: 'not initialized',
  503: 'sealed',
};

const segment = (p: string) => p.split('/').filter(Boolean).map(encodeURIComponent).join('/');

export class VaultClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: VaultClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  withToken(token: string): VaultClient {
    return new VaultClient({ url: this.url, token, timeoutMs: this.timeoutMs });
  }

  /** One request; returns status and parsed JSON body (null for empty bodies). Network failures become VaultError. */
  private async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T | null }> {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (this.token) headers['X-Vault-Token'] = this.token;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const url = `${this.url}/v1/${path}`;
    let res: { status: number; text: string };
    try {
      res = await send(url, method, headers, payload, this.timeoutMs);
    } catch (e) {
      throw networkError(method, url, e, this.timeoutMs);
    }
    let parsed: T | null = null;
    if (res.text.trim() !== '') {
      try {
        parsed = JSON.parse(res.text) as T;
      } catch {
        throw new VaultError(method, `/v1/${path}`, 'http', `${res.status} with a body that is not JSON (is this a Vault server?)`, res.status);
      }
    }
    return { status: res.status, body: parsed };
  }

  private fail(method: string, path: string, status: number, body: Envelope<unknown> | null): VaultError {
    const errors = (body?.errors ?? []).map((e) => e.replace(/\s+/g, ' ').trim());
    const warnings = body?.warnings ?? [];
    const said = errors.length ? errors.join('; ') : warnings.length ? warnings.join('; ') : statusText(status);
    return new VaultError(method, `/v1/${path}`, 'http', `${status} ${said}`, status, errors);
  }

  /** GET /v1/sys/health. Does not throw on 429/501/503: those are answers, not failures. */
  async health(): Promise<{ status: number; body: HealthBody | null }> {
    return this.request<HealthBody>('GET', 'sys/health');
  }

  async lookupSelf(): Promise<TokenInfo> {
    const path = 'auth/token/lookup-self';
    const { status, body } = await this.request<Envelope<Record<string, unknown>>>('GET', path);
    if (status !== 200 || !body?.data) throw this.fail('GET', path, status, body);
    const d = body.data;
    return {
      policies: Array.isArray(d.policies) ? (d.policies as string[]) : [],
      displayName: String(d.display_name ?? ''),
      ttl: Number(d.ttl ?? 0),
      path: String(d.path ?? ''),
    };
  }

  /** The mount that serves `path` (the preflight `vault kv` makes). Null when nothing is mounted there. */
  async mountInfo(path: string): Promise<MountInfo | null> {
    const p = `sys/internal/ui/mounts/${segment(path)}`;
    const { status, body } = await this.request<Envelope<{ path?: string; type?: string; options?: { version?: string } | null }>>('GET', p);
    if (status === 200 && body?.data) {
      const type = body.data.type ?? '';
      const v = body.data.options?.version;
      return {
        path: (body.data.path ?? '').replace(/\/+$/, ''),
        type,
        kvVersion: type === 'kv' ? (v === '2' ? 2 : 1) : null,
      };
    }
    // 403 "preflight capability check returned 403" is what Vault says for an unmounted path.
    if ((status === 403 && (body?.errors ?? []).some((e) => e.includes('preflight'))) || status === 404) return null;
    throw this.fail('GET', p, status, body);
  }

  /** Mounts a KV engine of the given version at `mount` (`vault secrets enable -path=M -version=N kv`). */
  async enableKv(mount: string, version: 1 | 2): Promise<void> {
    const p = `sys/mounts/${segment(mount)}`;
    const { status, body } = await this.request<Envelope<unknown>>('POST', p, { type: 'kv', options: { version: String(version) } });
    if (status !== 204 && status !== 200) throw this.fail('POST', p, status, body);
  }

  /** KV v1 write. */
  async kvWriteV1(mount: string, path: string, data: Record<string, unknown>): Promise<void> {
    const p = `${segment(mount)}/${segment(path)}`;
    const { status, body } = await this.request<Envelope<unknown>>('POST', p, data);
    if (status !== 204 && status !== 200) throw this.fail('POST', p, status, body);
  }

  /** KV v2 read. Null when the secret does not exist (or its latest version is deleted). */
  async kvRead(mount: string, path: string): Promise<KvSecret | null> {
    const p = `${segment(mount)}/data/${segment(path)}`;
    const { status, body } = await this.request<Envelope<{ data: Record<string, unknown> | null; metadata?: { version?: number } }>>('GET', p);
    if (status === 404) {
      // A v1-style path on a v2 mount also answers 404, with a warning: that is a wrong path, not a missing secret.
      if (body?.warnings?.length) throw this.fail('GET', p, status, body);
      return null;
    }
    if (status !== 200 || !body?.data) throw this.fail('GET', p, status, body);
    if (!body.data.data) return null;
    return { data: body.data.data, version: body.data.metadata?.version ?? 0 };
  }

  /** KV v1 read (for doctor and for sandboxes configured with kv_engine_version 1). */
  async kvReadV1(mount: string, path: string): Promise<Record<string, unknown> | null> {
    const p = `${segment(mount)}/${segment(path)}`;
    const { status, body } = await this.request<Envelope<Record<string, unknown>>>('GET', p);
    if (status === 404) return null;
    if (status !== 200 || !body?.data) throw this.fail('GET', p, status, body);
    return body.data;
  }

  /** KV v2 write; returns the new version. `cas` makes it conditional (0 = create only). */
  async kvWrite(mount: string, path: string, data: Record<string, unknown>, cas?: number): Promise<number> {
    const p = `${segment(mount)}/data/${segment(path)}`;
    const payload = cas === undefined ? { data } : { data, options: { cas } };
    const { status, body } = await this.request<Envelope<{ version?: number }>>('POST', p, payload);
    if (status !== 200 && status !== 204) throw this.fail('POST', p, status, body);
    return body?.data?.version ?? 0;
  }

  /** KV v2 list; an empty array when nothing is under the prefix. Uses GET ?list=true, which proxies pass. */
  async kvList(mount: string, prefix: string): Promise<string[]> {
    const p = `${segment(mount)}/metadata/${segment(prefix)}`;
    const { status, body } = await this.request<Envelope<{ keys?: string[] }>>('GET', `${p}?list=true`);
    if (status === 404) return [];
    if (status !== 200) throw this.fail('LIST', p, status, body);
    return body?.data?.keys ?? [];
  }

  /** The secret's key/values at `path`, whichever KV version the mount is. */
  async readSecret(mount: string, path: string, kvVersion: 1 | 2): Promise<Record<string, unknown> | null> {
    return kvVersion === 2 ? ((await this.kvRead(mount, path))?.data ?? null) : this.kvReadV1(mount, path);
  }

  async writeSecret(mount: string, path: string, data: Record<string, unknown>, kvVersion: 1 | 2): Promise<void> {
    if (kvVersion === 2) await this.kvWrite(mount, path, data);
    else await this.kvWriteV1(mount, path, data);
  }
}

function statusText(status: number): string {
  switch (status) {
    case 400: return 'bad request';
    case 403: return 'permission denied (the token is missing, wrong, or lacks a policy for this path)';
    case 404: return 'not found';
    case 405: return 'method not allowed';
    case 429: return 'rate limited or standby';
    case 500: return 'internal server error';
    case 502: return 'bad gateway';
    case 503: return 'sealed or unavailable';
    default: return 'unexpected status';
  }
}

function networkError(method: string, url: string, e: unknown, timeoutMs: number): VaultError {
  const err = e as { name?: string; code?: string; cause?: { code?: string; reason?: string; message?: string; name?: string }; message?: string };
  const code = err.cause?.code ?? err.code ?? '';
  const text = `${err.message ?? ''} ${err.cause?.message ?? ''} ${err.cause?.reason ?? ''}`;
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || err.cause?.name === 'TimeoutError' || code === 'ABORT_ERR') {
    return new VaultError(method, url, 'timeout', `no answer within ${timeoutMs} ms`);
  }
  if (code === 'ECONNREFUSED') return new VaultError(method, url, 'refused', 'connection refused: no server is listening there');
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || /wrong version number/i.test(text)) {
    return new VaultError(method, url, 'scheme', 'TLS handshake failed: the server speaks plain HTTP, not HTTPS');
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || /other side closed|socket hang up/i.test(text)) {
    return new VaultError(method, url, 'reset', 'the connection was closed before an answer came');
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new VaultError(method, url, 'dns', 'the host name does not resolve');
  if (/bad port/i.test(text)) return new VaultError(method, url, 'network', 'fetch refuses this port number');
  return new VaultError(method, url, 'network', (code || err.cause?.message || err.message || 'network error').toString());
}
