/**
 * Fakes of the services steps take injected (src/steps/context.ts Services), for unit tests of a
 * step's own decisions. The real server is what the e2e suite talks to; a fake answers only what a
 * step asks, the way the client reports it (VaultError with kind and status), and records what was
 * asked so a test can say what happened on the server.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeSettings } from '../../src/settings.js';
import type { Clock, FlowContext, PortProbe, Reporter, Services } from '../../src/steps/context.js';
import { formatAddress, type ListenAddress } from '../../src/vault/address.js';
import {
  type AppRoleOptions,
  type HealthBody,
  type KvSecret,
  type LoginResult,
  type MountInfo,
  type TokenInfo,
  type VaultApi,
  type VaultClientOptions,
  VaultError,
} from '../../src/vault/api.js';

/** What a refusal looks like from the client: an http VaultError with the server's status. */
export function httpError(method: string, path: string, status: number, said = 'permission denied'): VaultError {
  return new VaultError(method, `/v1/${path}`, 'http', `${status} ${said}`, status, [said]);
}

interface Mount {
  type: string;
  kvVersion: 1 | 2 | null;
  data: Map<string, Record<string, unknown>>;
}

interface SecretId {
  expires: number | null;
}

/** The state of one fake server, shared by every client made for it (whatever the token). */
export class FakeVaultServer {
  readonly mounts = new Map<string, Mount>();
  readonly tokens = new Set<string>();
  readonly policies = new Map<string, string>();
  readonly authMethods = new Map<string, string>();
  readonly roles = new Map<
    string,
    { roleId: string; policies: string[]; secretIdTtl?: number; secretIds: Map<string, SecretId> }
  >();
  readonly users = new Map<string, { password: string; policies: string[] }>();
  readonly writes: string[] = [];
  /** Called before each KV write; throw to fail it (a fault midway through seeding). */
  beforeWrite: (path: string) => Promise<void> | void = () => {};
  /** Requests in flight right now, and the most at once. */
  inFlight = 0;
  maxInFlight = 0;
  private counter = 0;

  constructor(readonly clock: Clock = fakeClock()) {}

  mount(path: string, type: string, kvVersion: 1 | 2 | null): this {
    this.mounts.set(path, { type, kvVersion, data: new Map() });
    return this;
  }

  next(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${this.counter.toString().padStart(8, '0')}`;
  }

  client(options: VaultClientOptions): FakeVault {
    return new FakeVault(this, options);
  }
}

export class FakeVault implements VaultApi {
  readonly url: string;
  readonly caFile: string | undefined;
  readonly namespace: string | undefined;
  private readonly token: string | undefined;

  constructor(
    readonly server: FakeVaultServer,
    private readonly options: VaultClientOptions,
  ) {
    this.url = options.url;
    this.caFile = options.caFile;
    this.namespace = options.namespace;
    this.token = options.token;
  }

  /** One request: counted while in flight, with a turn of the event loop as its round trip. */
  private async request<T>(method: string, path: string, authed: boolean, body: () => T): Promise<T> {
    const s = this.server;
    s.inFlight += 1;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    try {
      await new Promise((r) => setImmediate(r));
      if (authed && (this.token === undefined || !s.tokens.has(this.token))) throw httpError(method, path, 403);
      return body();
    } finally {
      s.inFlight -= 1;
    }
  }

  private kv(mount: string, path: string): Mount {
    const m = this.server.mounts.get(mount);
    if (!m || m.type !== 'kv') throw httpError('GET', `${mount}/${path}`, 404, 'no handler for route');
    return m;
  }

  withToken(token: string): FakeVault {
    return new FakeVault(this.server, { ...this.options, token });
  }
  withNamespace(namespace: string | undefined): FakeVault {
    return new FakeVault(this.server, { ...this.options, namespace });
  }
  health(): Promise<{ status: number; body: HealthBody | null }> {
    return this.request('GET', 'sys/health', false, () => ({
      status: 200,
      body: { initialized: true, sealed: false },
    }));
  }
  lookupSelf(): Promise<TokenInfo> {
    return this.request('GET', 'auth/token/lookup-self', true, () => ({
      policies: ['root'],
      displayName: 'root',
      numUses: 0,
      ttl: 0,
      path: 'auth/token/root',
    }));
  }
  mountInfo(path: string): Promise<MountInfo | null> {
    return this.request('GET', `sys/internal/ui/mounts/${path}`, true, () => {
      const m = this.server.mounts.get(path);
      return m ? { path, type: m.type, kvVersion: m.kvVersion } : null;
    });
  }
  enableKv(mount: string, version: 1 | 2): Promise<void> {
    return this.request('POST', `sys/mounts/${mount}`, true, () => {
      this.server.mount(mount, 'kv', version);
    });
  }
  async kvRead(mount: string, path: string): Promise<KvSecret | null> {
    const data = await this.readSecret(mount, path, 2);
    return data ? { data, version: 1 } : null;
  }
  kvList(mount: string, prefix: string): Promise<string[]> {
    return this.listSecrets(mount, prefix, 2);
  }
  readSecret(mount: string, path: string, _kvVersion: 1 | 2): Promise<Record<string, unknown> | null> {
    return this.request('GET', `${mount}/${path}`, true, () => {
      const data = this.kv(mount, path).data.get(path);
      return data ? { ...data } : null;
    });
  }
  async writeSecret(mount: string, path: string, data: Record<string, unknown>, _kvVersion: 1 | 2): Promise<void> {
    await this.request('POST', `${mount}/${path}`, true, () => undefined);
    await this.server.beforeWrite(`${mount}/${path}`);
    this.kv(mount, path).data.set(path, { ...data });
    this.server.writes.push(`${mount}/${path}`);
  }
  listSecrets(mount: string, prefix: string, _kvVersion: 1 | 2): Promise<string[]> {
    return this.request('LIST', `${mount}/${prefix}`, true, () =>
      [...this.kv(mount, prefix).data.keys()]
        .filter((k) => k.startsWith(`${prefix}/`))
        .map((k) => k.slice(prefix.length + 1)),
    );
  }
  login(path: string, body: Record<string, unknown>): Promise<LoginResult> {
    return this.request('POST', `auth/${path}`, false, () => {
      const [mount, , name] = path.split('/');
      if (this.server.authMethods.get(mount ?? '') === 'approle') return this.approleLoginNow(body);
      if (this.server.authMethods.get(mount ?? '') === 'userpass') return this.userpassLoginNow(name, body);
      throw httpError('POST', `auth/${path}`, 405, 'unsupported path');
    });
  }
  private grant(policies: string[]): LoginResult {
    const token = this.server.next('s.login');
    this.server.tokens.add(token);
    return { token, policies, ttl: 3600 };
  }
  private approleLoginNow(body: Record<string, unknown>): LoginResult {
    const role = [...this.server.roles.values()].find((r) => r.roleId === body.role_id);
    const sid = role?.secretIds.get(String(body.secret_id));
    // Like Vault until its tidy: a secret_id past its TTL still logs in.
    if (!role || !sid) throw httpError('POST', 'auth/approle/login', 400, 'invalid role or secret ID');
    return this.grant(role.policies);
  }
  private userpassLoginNow(name: string | undefined, body: Record<string, unknown>): LoginResult {
    const user = this.server.users.get(name ?? '');
    if (!user || user.password !== body.password)
      throw httpError('POST', 'auth/userpass/login', 400, 'invalid username or password');
    return this.grant(user.policies);
  }
  write(path: string, body: Record<string, unknown>): Promise<void> {
    return this.request('POST', path, true, () => {
      const m = /^auth\/([^/]+)\/users\/([^/]+)$/.exec(path);
      if (!m || this.server.authMethods.get(m[1] ?? '') !== 'userpass')
        throw httpError('POST', path, 404, 'no handler');
      const given = body.token_policies ?? body.policies ?? [];
      const policies = Array.isArray(given) ? given.map(String) : String(given).split(',').filter(Boolean);
      this.server.users.set(m[2] ?? '', { password: String(body.password), policies });
    });
  }
  approleLogin(roleId: string, secretId: string | undefined, mount = 'approle'): Promise<LoginResult> {
    return this.login(`${mount}/login`, { role_id: roleId, secret_id: secretId ?? null });
  }
  capabilitiesSelf(paths: string[]): Promise<Record<string, string[]>> {
    return this.request('POST', 'sys/capabilities-self', true, () =>
      Object.fromEntries(paths.map((p) => [p, ['root']])),
    );
  }
  policiesText(names: string[]): Promise<Record<string, string | null>> {
    return this.request('GET', 'sys/policies/acl', true, () =>
      Object.fromEntries(names.map((n) => [n, this.server.policies.get(n) ?? null])),
    );
  }
  listAuthMethods(): Promise<Record<string, string>> {
    return this.request('GET', 'sys/auth', true, () => Object.fromEntries(this.server.authMethods));
  }
  enableAuthMethod(path: string, type: string): Promise<boolean> {
    return this.request('POST', `sys/auth/${path}`, true, () => {
      if (this.server.authMethods.get(path) === type) return false;
      this.server.authMethods.set(path, type);
      return true;
    });
  }
  writePolicy(name: string, hcl: string): Promise<void> {
    return this.request('POST', `sys/policies/acl/${name}`, true, () => {
      this.server.policies.set(name, hcl);
    });
  }
  readPolicy(name: string): Promise<string | null> {
    return this.request('GET', `sys/policies/acl/${name}`, true, () => this.server.policies.get(name) ?? null);
  }
  writeAppRole(mount: string, role: string, opts: AppRoleOptions): Promise<void> {
    return this.request('POST', `auth/${mount}/role/${role}`, true, () => {
      const existing = this.server.roles.get(role);
      this.server.roles.set(role, {
        roleId: existing?.roleId ?? this.server.next('role'),
        policies: opts.tokenPolicies,
        secretIdTtl: opts.secretIdTtl,
        secretIds: existing?.secretIds ?? new Map(),
      });
    });
  }
  readRoleId(_mount: string, role: string): Promise<string> {
    return this.request('GET', `auth/approle/role/${role}/role-id`, true, () => {
      const r = this.server.roles.get(role);
      if (!r) throw httpError('GET', `auth/approle/role/${role}/role-id`, 404, 'role not found');
      return r.roleId;
    });
  }
  generateSecretId(_mount: string, role: string): Promise<{ secretId: string; ttl: number }> {
    return this.request('POST', `auth/approle/role/${role}/secret-id`, true, () => {
      const r = this.server.roles.get(role);
      if (!r) throw httpError('POST', `auth/approle/role/${role}/secret-id`, 404, 'role not found');
      const secretId = this.server.next('secret-id');
      const ttl = r.secretIdTtl ?? 0;
      r.secretIds.set(secretId, { expires: ttl ? this.server.clock.now() + ttl * 1000 : null });
      return { secretId, ttl };
    });
  }
  secretIdExpiry(_mount: string, role: string, secretId: string): Promise<Date | null | 'unknown-secret-id'> {
    return this.request('POST', `auth/approle/role/${role}/secret-id/lookup`, true, () => {
      const sid = this.server.roles.get(role)?.secretIds.get(secretId);
      if (!sid) return 'unknown-secret-id';
      return sid.expires === null ? null : new Date(sid.expires);
    });
  }
}

/** A clock that moves only when told to, or when a step sleeps. */
export function fakeClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/** Ports taken on this fake host (by HOST:PORT), every other one free; asked ports are recorded. */
export function fakePorts(taken: ListenAddress[] = []): PortProbe & { asked: string[] } {
  const held = new Set(taken.map(formatAddress));
  const asked: string[] = [];
  const probe = async (a: ListenAddress) => {
    asked.push(formatAddress(a));
    return !held.has(formatAddress(a));
  };
  return Object.assign(probe, { asked });
}

/** A reporter that keeps every line. */
export function recordingReporter(): Reporter & { lines: { level: 'info' | 'warn'; text: string }[] } {
  const lines: { level: 'info' | 'warn'; text: string }[] = [];
  return {
    lines,
    info: (text) => lines.push({ level: 'info', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
  };
}

export function fakeServices(server: FakeVaultServer, over: Partial<Services> = {}): Services {
  return {
    vault: (o) => server.client(o),
    portIsFree: fakePorts(),
    clock: server.clock,
    env: {},
    diagnose: async () => null,
    ...over,
  };
}

/**
 * A flow context for a fresh sandbox dir in a temp dir, with the settings the real merge makes
 * from `flags` (nothing is started or written by making it).
 */
export async function flowContext(
  server: FakeVaultServer,
  flags: Record<string, unknown> = {},
  over: Partial<Services> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<FlowContext & { report: ReturnType<typeof recordingReporter> }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'css-steps-')), 'sb');
  const { settings } = await mergeSettings({ dir, yes: true, ...flags }, env);
  return {
    options: { dir, yes: true },
    settings,
    paths: settings.sandbox.paths,
    services: fakeServices(server, over),
    report: recordingReporter(),
    warnings: [],
    spawned: {},
    airflow: null,
  };
}
