/**
 * The only module that talks HTTP to Vault (not node-vault: deps.md §2): loopback requests never
 * go through HTTP_PROXY, errors never carry the token, KV v2 is typed, and one keep-alive pool
 * serves the whole run. Over node:http rather than `fetch`: the first `fetch` loads and compiles
 * undici, which costs every short command (doctor, status) more than the rest of its work.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { FileError } from '../errors.js';
import { formatBytes, MAX_RECORD_BYTES, MAX_TEXT_BYTES, readUserBytes } from '../io/read.js';
import {
  anyObject,
  bool,
  errorsOf,
  list,
  MalformedAnswer,
  num,
  obj,
  opt,
  recordOf,
  type Shape,
  str,
} from './answer.js';
import {
  type AppRoleOptions,
  type HealthBody,
  type KvSecret,
  type LoginResult,
  type MountInfo,
  type ResultantAcl,
  type TokenInfo,
  type VaultApi,
  type VaultClientOptions,
  VaultError,
} from './api.js';

export {
  type AppRoleOptions,
  HEALTH_STATUS,
  type HealthBody,
  type KvSecret,
  type LoginResult,
  type MountInfo,
  type ResultantAcl,
  type TokenInfo,
  type VaultApi,
  type VaultClientOptions,
  VaultError,
  type VaultErrorKind,
} from './api.js';

type Transport = { agent: HttpAgent | HttpsAgent; request: typeof import('node:http').request };

// Loaded on the first request: the create flow spawns the server before it needs to talk to it.
// Idle keep-alive sockets are unref'd by the agent, so they never hold the CLI open.
let plain: Promise<Transport> | undefined;

/**
 * One https agent per CA file, so a custom CA is added to what is trusted for that server only
 * (node's `ca` option replaces the default roots for the agent, which is what VAULT_CACERT means
 * to the vault CLI and `verify=<path>` to requests); the agent without a CA file trusts what Node
 * trusts (its bundled roots plus NODE_EXTRA_CA_CERTS). Verification is never turned off.
 * node:https (and TLS with it) loads on the first https request: most runs talk plain HTTP to a
 * loopback dev server.
 */
const SECURE = new Map<string, Promise<Transport>>();

/** How to reach a server: its request function and the agent (keep-alive pool, trust) for it. */
export function transport(secure: boolean, caFile: string | undefined): Promise<Transport> {
  if (!secure)
    return (plain ??= import('node:http').then(({ Agent, request }) => ({
      agent: new Agent({ keepAlive: true, maxSockets: 16 }),
      request,
    })));
  const key = caFile ?? '';
  let t = SECURE.get(key);
  if (!t) {
    t = (async () => {
      const { Agent, request } = await import('node:https');
      return {
        agent: new Agent({ keepAlive: true, maxSockets: 16, ca: caFile ? readCaFile(caFile) : undefined }),
        request,
      };
    })();
    SECURE.set(key, t);
    // A CA file that cannot be read now may be readable on the next call.
    t.catch(() => SECURE.delete(key));
  }
  return t;
}

/** The largest answer read: more than any list or secret this tool asks for (Vault's own request cap is 32 MB). */
export const MAX_ANSWER_BYTES = MAX_RECORD_BYTES;

/** An answer past MAX_ANSWER_BYTES: the read stops there. */
class AnswerTooLarge extends Error {}

async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  timeoutMs: number,
  caFile: string | undefined,
): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const { agent, request } = await transport(u.protocol === 'https:', caFile);
  return new Promise((resolve, reject) => {
    const req = request(u, { method, headers, agent, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > MAX_ANSWER_BYTES) req.destroy(new AnswerTooLarge());
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface Envelope<T> {
  data?: T;
  errors?: string[];
  warnings?: string[] | null;
}

const segment = (p: string) => p.split('/').filter(Boolean).map(encodeURIComponent).join('/');

function tokenInfo(d: {
  policies?: string[];
  display_name?: string;
  ttl?: number;
  path?: string;
  num_uses?: number;
  namespace_path?: string;
}): TokenInfo {
  return {
    policies: d.policies ?? [],
    displayName: d.display_name ?? '',
    ttl: d.ttl ?? 0,
    path: d.path ?? '',
    numUses: d.num_uses ?? 0,
    ...(d.namespace_path !== undefined ? { namespacePath: d.namespace_path.replace(/^\/+|\/+$/g, '') } : {}),
  };
}

export class VaultClient implements VaultApi {
  readonly url: string;
  readonly caFile: string | undefined;
  readonly namespace: string | undefined;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: VaultClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.caFile = opts.caFile;
    this.namespace = opts.namespace?.replace(/^\/+|\/+$/g, '') || undefined;
  }

  withToken(token: string): VaultClient {
    return new VaultClient({
      url: this.url,
      token,
      timeoutMs: this.timeoutMs,
      caFile: this.caFile,
      namespace: this.namespace,
    });
  }

  /** The same server and token in another namespace (undefined: the root namespace). */
  withNamespace(namespace: string | undefined): VaultClient {
    return new VaultClient({
      url: this.url,
      token: this.token,
      timeoutMs: this.timeoutMs,
      caFile: this.caFile,
      namespace,
    });
  }

  /** One request; returns status and parsed JSON body (null for empty bodies). Network failures become VaultError. */
  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    rootOnly = false,
  ): Promise<{ status: number; body: T | null }> {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (this.token) headers['X-Vault-Token'] = this.token;
    if (this.namespace && !rootOnly) headers['X-Vault-Namespace'] = this.namespace;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const url = `${this.url}/v1/${path}`;
    let res: { status: number; text: string };
    try {
      res = await send(url, method, headers, payload, this.timeoutMs, this.caFile);
    } catch (e) {
      if (e instanceof AnswerTooLarge)
        throw new VaultError(
          method,
          `/v1/${path}`,
          'not-vault',
          `answered more than ${formatBytes(MAX_ANSWER_BYTES)}, far more than any Vault answer this tool asks for (is this a Vault server?)`,
        );
      throw networkError(method, url, e, this.timeoutMs, this.caFile);
    }
    let parsed: T | null = null;
    if (res.text.trim() !== '') {
      try {
        parsed = JSON.parse(res.text) as T;
      } catch {
        // Go's TLS listener answers a plain-HTTP request with a bare 400 that is not JSON (vault.md §5.2).
        if (res.status === 400 && url.startsWith('http:')) {
          throw new VaultError(
            method,
            `/v1/${path}`,
            'scheme',
            '400 from a server that speaks HTTPS: use an https:// url',
            res.status,
          );
        }
        throw new VaultError(
          method,
          `/v1/${path}`,
          'not-vault',
          `${res.status} with a body that is not JSON (is this a Vault server?)`,
          res.status,
        );
      }
    }
    return { status: res.status, body: parsed };
  }

  private fail(method: string, path: string, status: number, body: Envelope<unknown> | null): VaultError {
    const said = errorsOf(body);
    if (said.malformed) return notVault(method, path, status, 'errors that are not a list of strings');
    const errors = said.errors.map((e) => e.replace(/\s+/g, ' ').trim());
    const text = errors.length
      ? errors.join('; ')
      : said.warnings.length
        ? said.warnings.join('; ')
        : statusText(status);
    return new VaultError(method, `/v1/${path}`, 'http', `${status} ${text}`, status, errors);
  }

  /** `v` checked against `shape`: an answer of another shape is not Vault's (one line, kind not-vault). */
  private shaped<T>(shape: Shape<T>, v: unknown, method: string, path: string, status: number, at = 'data'): T {
    try {
      return shape(v, at);
    } catch (e) {
      if (e instanceof MalformedAnswer) throw notVault(method, path, status, e.message);
      throw e;
    }
  }

  /** GET /v1/sys/health. Does not throw on 429/501/503: those are answers, not failures. */
  async health(): Promise<{ status: number; body: HealthBody | null }> {
    // sys/health lives only in the root namespace: asked inside one, the server answers 400.
    const r = await this.request<unknown>('GET', 'sys/health', undefined, true);
    const body = r.body === null ? null : this.shaped(HEALTH, r.body, 'GET', 'sys/health', r.status, 'the answer');
    return { status: r.status, body };
  }

  async lookupSelf(): Promise<TokenInfo> {
    const path = 'auth/token/lookup-self';
    const { status, body } = await this.request<Envelope<Record<string, unknown>>>('GET', path);
    if (status !== 200 || !body?.data) throw this.fail('GET', path, status, body);
    return tokenInfo(this.shaped(TOKEN, body.data, 'GET', path, status));
  }

  /**
   * Another token's properties, asked with this client's token (`vault token lookup TOKEN`): unlike
   * lookup-self, it spends none of that token's uses.
   */
  async lookupToken(token: string): Promise<TokenInfo> {
    const path = 'auth/token/lookup';
    const { status, body } = await this.request<Envelope<Record<string, unknown>>>('POST', path, { token });
    if (status !== 200 || !body?.data) throw this.fail('POST', path, status, body);
    return tokenInfo(this.shaped(TOKEN, body.data, 'POST', path, status));
  }

  /** The mount that serves `path` (the preflight `vault kv` makes). Null when nothing is mounted there. */
  async mountInfo(path: string): Promise<MountInfo | null> {
    const p = `sys/internal/ui/mounts/${segment(path)}`;
    const { status, body } = await this.request<
      Envelope<{ path?: string; type?: string; options?: { version?: string } | null }>
    >('GET', p);
    if (status === 200 && body?.data) {
      const d = this.shaped(MOUNT, body.data, 'GET', p, status);
      const type = d.type ?? '';
      const v = d.options?.version;
      return {
        path: (d.path ?? '').replace(/\/+$/, ''),
        type,
        kvVersion: type === 'kv' ? (v === '2' ? 2 : 1) : null,
      };
    }
    // 403 "preflight capability check returned 403" is what Vault says for an unmounted path.
    if ((status === 403 && errorsOf(body).errors.some((e) => e.includes('preflight'))) || status === 404) return null;
    throw this.fail('GET', p, status, body);
  }

  /** Mounts a KV engine of the given version at `mount` (`vault secrets enable -path=M -version=N kv`). */
  async enableKv(mount: string, version: 1 | 2): Promise<void> {
    const p = `sys/mounts/${segment(mount)}`;
    const { status, body } = await this.request<Envelope<unknown>>('POST', p, {
      type: 'kv',
      options: { version: String(version) },
    });
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
    const { status, body } = await this.request<
      Envelope<{ data: Record<string, unknown> | null; metadata?: { version?: number } }>
    >('GET', p);
    if (status === 404) {
      // A v1-style path on a v2 mount also answers 404, with a warning: that is a wrong path, not a missing secret.
      if (errorsOf(body).warnings.length) throw this.fail('GET', p, status, body);
      return null;
    }
    if (status !== 200 || !body?.data) throw this.fail('GET', p, status, body);
    const d = this.shaped(KV2, body.data, 'GET', p, status);
    if (!d.data) return null;
    return { data: d.data, version: d.metadata?.version ?? 0 };
  }

  /** KV v1 read (for doctor and for sandboxes configured with kv_engine_version 1). */
  async kvReadV1(mount: string, path: string): Promise<Record<string, unknown> | null> {
    const p = `${segment(mount)}/${segment(path)}`;
    const { status, body } = await this.request<Envelope<Record<string, unknown>>>('GET', p);
    if (status === 404) return null;
    if (status !== 200 || !body?.data) throw this.fail('GET', p, status, body);
    return this.shaped(anyObject, body.data, 'GET', p, status);
  }

  /** KV v2 write; returns the new version. `cas` makes it conditional (0 = create only). */
  async kvWrite(mount: string, path: string, data: Record<string, unknown>, cas?: number): Promise<number> {
    const p = `${segment(mount)}/data/${segment(path)}`;
    const payload = cas === undefined ? { data } : { data, options: { cas } };
    const { status, body } = await this.request<Envelope<{ version?: number }>>('POST', p, payload);
    if (status !== 200 && status !== 204) throw this.fail('POST', p, status, body);
    return (body?.data && this.shaped(WRITTEN, body.data, 'POST', p, status).version) || 0;
  }

  /** KV v2 list; an empty array when nothing is under the prefix. Uses GET ?list=true, which proxies pass. */
  async kvList(mount: string, prefix: string): Promise<string[]> {
    const p = `${segment(mount)}/metadata/${segment(prefix)}`;
    const { status, body } = await this.request<Envelope<{ keys?: string[] }>>('GET', `${p}?list=true`);
    if (status === 404) return [];
    if (status !== 200) throw this.fail('LIST', p, status, body);
    return (body?.data && this.shaped(KEYS, body.data, 'LIST', p, status).keys) ?? [];
  }

  /** The namespaces directly under this client's namespace (`LIST sys/namespaces`), without the trailing '/'. */
  async listNamespaces(): Promise<string[]> {
    const p = 'sys/namespaces';
    const { status, body } = await this.request<Envelope<{ keys?: string[] }>>('GET', `${p}?list=true`);
    if (status === 404) return [];
    if (status !== 200) throw this.fail('LIST', p, status, body);
    return ((body?.data && this.shaped(KEYS, body.data, 'LIST', p, status).keys) ?? []).map((k) =>
      k.replace(/\/+$/, ''),
    );
  }

  /** The secret's key/values at `path`, whichever KV version the mount is. */
  async readSecret(mount: string, path: string, kvVersion: 1 | 2): Promise<Record<string, unknown> | null> {
    return kvVersion === 2 ? ((await this.kvRead(mount, path))?.data ?? null) : this.kvReadV1(mount, path);
  }

  async writeSecret(mount: string, path: string, data: Record<string, unknown>, kvVersion: 1 | 2): Promise<void> {
    if (kvVersion === 2) await this.kvWrite(mount, path, data);
    else await this.kvWriteV1(mount, path, data);
  }

  /** KV list under a prefix for either version (v1 lists the path itself). Keys ending in '/' are folders. */
  async listSecrets(mount: string, prefix: string, kvVersion: 1 | 2): Promise<string[]> {
    if (kvVersion === 2) return this.kvList(mount, prefix);
    const p = `${segment(mount)}/${segment(prefix)}`;
    const { status, body } = await this.request<Envelope<{ keys?: string[] }>>('GET', `${p}?list=true`);
    if (status === 404) return [];
    if (status !== 200) throw this.fail('LIST', p, status, body);
    return (body?.data && this.shaped(KEYS, body.data, 'LIST', p, status).keys) ?? [];
  }

  /**
   * A login as hvac does it for the provider: POST /v1/auth/<path> with the method's body, no token
   * needed; the answer's `auth` block is the client token and its policies.
   */
  async login(path: string, body: Record<string, unknown>): Promise<LoginResult> {
    const p = `auth/${segment(path)}`;
    const { status, body: answer } = await this.request<
      Envelope<unknown> & { auth?: { client_token?: string; policies?: string[]; lease_duration?: number } }
    >('POST', p, body);
    if (status !== 200 || !answer?.auth?.client_token) throw this.fail('POST', p, status, answer);
    const auth = this.shaped(AUTH, answer.auth, 'POST', p, status, 'auth');
    return { token: auth.client_token, policies: auth.policies ?? [], ttl: auth.lease_duration ?? 0 };
  }

  /** `vault write <path> k=v...`: an auth method's role or user; the answer has no data to read. */
  async write(path: string, body: Record<string, unknown>): Promise<void> {
    const p = segment(path);
    const { status, body: answer } = await this.request<Envelope<unknown>>('POST', p, body);
    if (status !== 204 && status !== 200) throw this.fail('POST', p, status, answer);
  }

  /** AppRole login exactly as hvac's `auth.approle.login` does it: {role_id, secret_id} to auth/<mount>/login. */
  approleLogin(roleId: string, secretId: string | undefined, mount = 'approle'): Promise<LoginResult> {
    return this.login(`${mount}/login`, { role_id: roleId, secret_id: secretId ?? null });
  }

  /** What this token may do on each path (`vault token capabilities`), as the server's ACL says; any token may ask. */
  async capabilitiesSelf(paths: string[]): Promise<Record<string, string[]>> {
    const p = 'sys/capabilities-self';
    const { status, body } = await this.request<Envelope<Record<string, string[]>> & Record<string, unknown>>(
      'POST',
      p,
      { paths },
    );
    if (status !== 200 || !body) throw this.fail('POST', p, status, body);
    const table = this.shaped(anyObject, body.data ?? body, 'POST', p, status);
    const out: Record<string, string[]> = {};
    for (const path of paths) {
      const caps = table[path] ?? (paths.length === 1 ? table.capabilities : undefined);
      out[path] = this.shaped(opt(list(str)), caps, 'POST', p, status, `data.${path}`) ?? [];
    }
    return out;
  }

  /**
   * What this token's policies grant, merged (`sys/internal/ui/resultant-acl`, which the default
   * policy lets every token read): exact paths and glob prefixes (a glob's key has no trailing `*`),
   * each with its capabilities; an explicit deny shows as ["deny"].
   */
  async resultantAcl(): Promise<ResultantAcl> {
    const p = 'sys/internal/ui/resultant-acl';
    const { status, body } = await this.request<Envelope<unknown>>('GET', p);
    if (status !== 200 || !body?.data) throw this.fail('GET', p, status, body);
    const d = this.shaped(ACL, body.data, 'GET', p, status);
    // In a namespace the paths come back under it ('ns1/secret/data/...'): relative to it, as requests are.
    const ns = this.namespace ? `${this.namespace}/` : '';
    const caps = (t: Record<string, { capabilities?: string[] }> | undefined) =>
      Object.fromEntries(
        Object.entries(t ?? {}).map(([k, v]) => [
          ns && k.startsWith(ns) ? k.slice(ns.length) : k,
          v.capabilities ?? [],
        ]),
      );
    return { exact: caps(d.exact_paths), glob: caps(d.glob_paths), root: d.root === true };
  }

  /** The secrets engines this token may use something under (`sys/internal/ui/mounts`), by path without '/'. */
  async visibleMounts(): Promise<Record<string, MountInfo>> {
    const p = 'sys/internal/ui/mounts';
    const { status, body } = await this.request<Envelope<unknown>>('GET', p);
    if (status !== 200 || !body?.data) throw this.fail('GET', p, status, body);
    const d = this.shaped(obj({ secret: opt(recordOf(MOUNT)) }), body.data, 'GET', p, status);
    const out: Record<string, MountInfo> = {};
    for (const [k, m] of Object.entries(d.secret ?? {})) {
      const path = k.replace(/\/+$/, '');
      const type = m.type ?? '';
      out[path] = { path, type, kvVersion: type === 'kv' ? (m.options?.version === '2' ? 2 : 1) : null };
    }
    return out;
  }

  /** The HCL of each named policy the caller may read (needs a token with read on sys/policies/acl). */
  async policiesText(names: string[]): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const n of names) out[n] = await this.readPolicy(n);
    return out;
  }

  /** Auth methods enabled, keyed by path without the trailing '/', with their type. */
  async listAuthMethods(): Promise<Record<string, string>> {
    const p = 'sys/auth';
    const { status, body } = await this.request<Envelope<Record<string, { type?: string }>> & Record<string, unknown>>(
      'GET',
      p,
    );
    if (status !== 200 || !body) throw this.fail('GET', p, status, body);
    const table = this.shaped(recordOf(obj({ type: opt(str) })), body.data ?? {}, 'GET', p, status);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(table)) out[k.replace(/\/+$/, '')] = v.type ?? '';
    return out;
  }

  /** `vault auth enable -path=<path> <type>`; true when it enabled it, false when it was already there with that type. */
  async enableAuthMethod(path: string, type: string): Promise<boolean> {
    const existing = (await this.listAuthMethods())[path.replace(/\/+$/, '')];
    if (existing === type) return false;
    const p = `sys/auth/${segment(path)}`;
    const { status, body } = await this.request<Envelope<unknown>>('POST', p, { type });
    if (status !== 204 && status !== 200) throw this.fail('POST', p, status, body);
    return true;
  }

  /** `vault policy write <name>`: an ACL policy from HCL text. */
  async writePolicy(name: string, hcl: string): Promise<void> {
    const p = `sys/policies/acl/${segment(name)}`;
    const { status, body } = await this.request<Envelope<unknown>>('POST', p, { policy: hcl });
    if (status !== 204 && status !== 200) throw this.fail('POST', p, status, body);
  }

  /** The HCL text of an ACL policy; null when there is none by that name. */
  async readPolicy(name: string): Promise<string | null> {
    const p = `sys/policies/acl/${segment(name)}`;
    const { status, body } = await this.request<Envelope<{ policy?: string }>>('GET', p);
    if (status === 404) return null;
    if (status !== 200 || !body?.data) throw this.fail('GET', p, status, body);
    return this.shaped(obj({ policy: opt(str) }), body.data, 'GET', p, status).policy ?? '';
  }

  /** Create or update an AppRole role (`vault write auth/<mount>/role/<name> token_policies=...`). */
  async writeAppRole(mount: string, role: string, opts: AppRoleOptions): Promise<void> {
    const p = `auth/${segment(mount)}/role/${segment(role)}`;
    const payload: Record<string, unknown> = { token_policies: opts.tokenPolicies };
    if (opts.secretIdTtl !== undefined) payload.secret_id_ttl = `${opts.secretIdTtl}s`;
    if (opts.tokenTtl !== undefined) payload.token_ttl = `${opts.tokenTtl}s`;
    const { status, body } = await this.request<Envelope<unknown>>('POST', p, payload);
    if (status !== 204 && status !== 200) throw this.fail('POST', p, status, body);
  }

  /** The role's role_id. */
  async readRoleId(mount: string, role: string): Promise<string> {
    const p = `auth/${segment(mount)}/role/${segment(role)}/role-id`;
    const { status, body } = await this.request<Envelope<{ role_id?: string }>>('GET', p);
    if (status !== 200 || !body?.data?.role_id) throw this.fail('GET', p, status, body);
    return this.shaped(obj({ role_id: str }), body.data, 'GET', p, status).role_id;
  }

  /** A new secret_id for the role; its TTL is the role's secret_id_ttl (0: none). */
  async generateSecretId(mount: string, role: string): Promise<{ secretId: string; ttl: number }> {
    const p = `auth/${segment(mount)}/role/${segment(role)}/secret-id`;
    const { status, body } = await this.request<Envelope<{ secret_id?: string; secret_id_ttl?: number }>>(
      'POST',
      p,
      {},
    );
    if (status !== 200 || !body?.data?.secret_id) throw this.fail('POST', p, status, body);
    const d = this.shaped(obj({ secret_id: str, secret_id_ttl: opt(num) }), body.data, 'POST', p, status);
    return { secretId: d.secret_id, ttl: d.secret_id_ttl ?? 0 };
  }

  /**
   * When a secret_id of the role stops being valid by its TTL: a date, null for no expiry, or
   * 'unknown-secret-id' when the server holds no such secret_id (OpenBao forgets one at its TTL;
   * Vault keeps it, and accepts it at login, until its periodic tidy removes it).
   */
  async secretIdExpiry(mount: string, role: string, secretId: string): Promise<Date | null | 'unknown-secret-id'> {
    const p = `auth/${segment(mount)}/role/${segment(role)}/secret-id/lookup`;
    const { status, body } = await this.request<Envelope<{ expiration_time?: string }>>('POST', p, {
      secret_id: secretId,
    });
    if (status === 204 || status === 404) return 'unknown-secret-id';
    if (status !== 200 || !body?.data) throw this.fail('POST', p, status, body);
    const d = this.shaped(obj({ expiration_time: opt(str) }), body.data, 'POST', p, status);
    const at = Date.parse(d.expiration_time ?? '');
    // No expiry is Go's zero time (0001-01-01T00:00:00Z), or no field at all.
    return Number.isNaN(at) || at <= 0 ? null : new Date(at);
  }
}

/** The shapes of the answers read (answer.ts); fields the tool does not read are not checked. */
const HEALTH: Shape<HealthBody> = obj({
  initialized: opt(bool),
  sealed: opt(bool),
  standby: opt(bool),
  version: opt(str),
  cluster_name: opt(str),
  enterprise: opt(bool),
});
const TOKEN = obj({
  policies: opt(list(str)),
  display_name: opt(str),
  ttl: opt(num),
  path: opt(str),
  num_uses: opt(num),
  namespace_path: opt(str),
});
const MOUNT = obj({ path: opt(str), type: opt(str), options: opt(obj({ version: opt(str) })) });
const CAPS = recordOf(obj({ capabilities: opt(list(str)) }));
const ACL = obj({ exact_paths: opt(CAPS), glob_paths: opt(CAPS), root: opt(bool) });
const KV2 = obj({ data: opt(anyObject), metadata: opt(obj({ version: opt(num) })) });
const WRITTEN = obj({ version: opt(num) });
const KEYS = obj({ keys: opt(list(str)) });
const AUTH = obj({ client_token: str, policies: opt(list(str)), lease_duration: opt(num) });

function notVault(method: string, path: string, status: number, what: string): VaultError {
  return new VaultError(
    method,
    `/v1/${path}`,
    'not-vault',
    `${status} with an answer Vault does not give (${what}; is this a Vault server?)`,
    status,
  );
}

function statusText(status: number): string {
  switch (status) {
    case 400:
      return 'bad request';
    case 403:
      return 'permission denied (the token is missing, wrong, or lacks a policy for this path)';
    case 404:
      return 'not found';
    case 405:
      return 'method not allowed';
    case 429:
      return 'rate limited or standby';
    case 500:
      return 'internal server error';
    case 502:
      return 'bad gateway';
    case 503:
      return 'sealed or unavailable';
    default:
      return 'unexpected status';
  }
}

/** Node's certificate-verification codes (tls.TLSSocket.authorizationError / X509 error names). */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** A CA bundle: a regular file, at most 1 MB (a FIFO or device there never blocks the run). */
function readCaFile(caFile: string): Buffer {
  return readUserBytes(caFile, { what: 'the CA file', maxBytes: MAX_TEXT_BYTES });
}

function networkError(method: string, url: string, e: unknown, timeoutMs: number, caFile?: string): VaultError {
  const err = e as {
    name?: string;
    code?: string;
    syscall?: string;
    path?: string;
    cause?: { code?: string; reason?: string; message?: string; name?: string };
    message?: string;
  };
  const code = err.cause?.code ?? err.code ?? '';
  // The CA file refused by the reader while building the agent.
  if (caFile && e instanceof FileError && e.path === caFile) {
    return new VaultError(method, url, 'ca-file', `the CA file ${caFile} ${e.problem}`, undefined, [], e.code ?? '');
  }
  if (UNTRUSTED.has(code)) {
    return new VaultError(
      method,
      url,
      'tls-untrusted',
      `the server's certificate is not signed by a trusted CA (${code})${caFile ? ` in ${caFile}` : ''}`,
      undefined,
      [],
      code,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new VaultError(
      method,
      url,
      'tls-hostname',
      `the server's certificate is not valid for ${new URL(url).hostname} (${code})`,
      undefined,
      [],
      code,
    );
  }
  if (EXPIRED.has(code))
    return new VaultError(
      method,
      url,
      'tls-expired',
      `the server's certificate is out of its validity period (${code})`,
      undefined,
      [],
      code,
    );
  if (
    err.name === 'TimeoutError' ||
    err.name === 'AbortError' ||
    err.cause?.name === 'TimeoutError' ||
    code === 'ABORT_ERR'
  ) {
    return new VaultError(method, url, 'timeout', `no answer within ${timeoutMs} ms`);
  }
  if (code === 'ECONNREFUSED')
    return new VaultError(method, url, 'refused', 'connection refused: no server is listening there');
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') {
    return new VaultError(
      method,
      url,
      'scheme',
      'TLS handshake failed: the server speaks plain HTTP, not HTTPS',
      undefined,
      [],
      code,
    );
  }
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL'))
    return new VaultError(method, url, 'tls', `TLS failed (${code})`, undefined, [], code);
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new VaultError(method, url, 'reset', 'the connection was closed before an answer came');
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new VaultError(method, url, 'dns', 'the host name does not resolve');
  if (code === 'ERR_SOCKET_BAD_PORT') return new VaultError(method, url, 'network', 'not a usable port number');
  return new VaultError(
    method,
    url,
    'network',
    (code || err.cause?.message || err.message || 'network error').toString(),
  );
}
