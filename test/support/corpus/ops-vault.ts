/**
 * Operators on Vault and on how Airflow reaches it: auth methods and their mounts, tokens
 * (unknown, revoked, a stale one in the shell), address, scheme, TLS verification and proxies
 * (requests reads HTTP(S)_PROXY/NO_PROXY and REQUESTS_CA_BUNDLE; the provider copies the `verify`,
 * `cert` and `proxies` kwargs into its session), the server's state (stopped, sealed), policies,
 * and mounts, KV versions, paths and namespaces (VaultBackend._get_secret_with_base and
 * _VaultClient.get_secret of provider 4.8.4).
 */
import { freePort, runProcess } from '../sandbox.js';
import { CLI } from '../env.js';
import { policyFor, readerToken } from './bases.js';
import { field } from './vault-http.js';
import { op, type Op } from './op.js';
import type { Facts, World } from './world.js';

const kwargsReadable = (f: Facts): boolean => f.kwargsPlace !== 'none';
const tokenInKwargsOrFile = (f: Facts): boolean =>
  f.auth === 'token' && (f.tokenVia === 'kwargs' || f.tokenVia === 'token_path' || f.tokenVia === 'env');
const paths = (f: Facts): ('conn' | 'var')[] => (f.hasVar ? ['conn', 'var'] : ['conn']);
const BOGUS_TOKEN = 's.AAAAAAAAAAAAAAAAAAAAAAAA';
/** Operators that make Airflow try a path first that holds nothing (fine for the root token only). */
const FALLBACK_PATHS = ['connections-path-list', 'global-secrets-path', 'cfg-percent-escaped'];

/** The policy Airflow's login carries; a set-up on the root token first moves to a token with a reader policy. */
async function airflowPolicy(w: World, f: Facts): Promise<string> {
  const ns = { namespace: w.store.namespace };
  if (f.auth === 'token') {
    const name = `reader-${w.n}`;
    if (f.rootToken) w.tokenSink(await readerToken(w, paths(f), name));
    return name;
  }
  if (f.auth === 'userpass') return `userpass-${w.n}`;
  if (f.base === 'manual') return `approle-${w.n}`;
  const roles = (await w.vault('LIST', 'auth/approle/role', undefined, ns))?.data as { keys: string[] };
  const role = (await w.vault('GET', `auth/approle/role/${roles.keys[0]}`, undefined, ns))?.data as {
    token_policies: string[];
  };
  const policy = role.token_policies.find((p) => p !== 'default');
  if (!policy) throw new Error('corpus set-up: the AppRole role has no policy');
  return policy;
}

async function writePolicy(w: World, name: string, text: string): Promise<void> {
  await w.vault('PUT', `sys/policies/acl/${name}`, { policy: text }, { namespace: w.store.namespace });
}

const dataPath = (w: World, base: string): string =>
  [w.store.version === 2 ? `${w.store.mount}/data` : w.store.mount, base].filter(Boolean).join('/');

export const VAULT_OPS: Op[] = [
  // --- auth methods ---------------------------------------------------------------------------
  op({
    id: 'token-unknown',
    class: 'auth methods',
    title: 'a token the server does not know',
    kind: 'breaking',
    when: (f) => f.auth === 'token' && f.tokenVia !== 'per-key',
    facts: () => ({ rootToken: false }),
    breaks: () => 'auth',
    apply: (w) => w.tokenSink(BOGUS_TOKEN),
  }),
  op({
    id: 'token-revoked',
    class: 'auth methods',
    title: 'a token that was revoked (as an expired one is)',
    kind: 'breaking',
    when: (f) => f.auth === 'token' && f.tokenVia !== 'per-key',
    facts: () => ({ rootToken: false }),
    breaks: () => 'auth',
    apply: async (w, f) => {
      const token = await readerToken(w, paths(f), `revoked-${w.n}`);
      await w.vault('POST', 'auth/token/revoke', { token }, { namespace: w.store.namespace });
      w.tokenSink(token);
    },
  }),
  op({
    id: 'token-limited-uses',
    class: 'auth methods',
    title: 'a token limited to 6 uses (Airflow spends one per read; doctor must not spend them)',
    kind: 'benign',
    // A reader token gets 403 on a fallback path its policy does not cover, which ends the lookup.
    when: (f) =>
      f.auth === 'token' &&
      f.tokenVia !== 'per-key' &&
      !f.hasVar &&
      !f.applied.some((a) => FALLBACK_PATHS.includes(a) || a === 'token-limited-uses'),
    facts: () => ({ rootToken: false, alone: true }),
    apply: async (w, f) => {
      w.tokenSink(await readerToken(w, paths(f), `limited-${w.n}`, { num_uses: 6 }));
      w.consumable = true;
    },
  }),
  op({
    id: 'stale-shell-token',
    class: 'shadowing sources',
    title: "no token in the sandbox's files: the shell's exported VAULT_TOKEN is yesterday's",
    kind: 'breaking',
    when: (f) => tokenInKwargsOrFile(f) && kwargsReadable(f),
    facts: () => ({ vaultTokenInEnv: false, rootToken: false, envEdited: true }),
    breaks: () => 'auth',
    apply: async (w, f) => {
      const stale = await readerToken(w, paths(f), `stale-${w.n}`);
      await w.vault('POST', 'auth/token/revoke', { token: stale }, { namespace: w.store.namespace });
      w.editKwargs((kw) => {
        delete kw.token;
        delete kw.token_path;
      });
      w.unsetEnv('VAULT_TOKEN');
      w.shell.VAULT_TOKEN = stale;
    },
  }),
  op({
    id: 'token-path-missing',
    class: 'auth methods',
    title: 'token_path names a file that does not exist',
    kind: 'breaking',
    when: (f) => f.auth === 'token' && (f.tokenVia === 'kwargs' || f.tokenVia === 'token_path') && kwargsReadable(f),
    breaks: () => 'auth',
    apply: (w) =>
      w.editKwargs((kw) => {
        delete kw.token;
        kw.token_path = `${w.dir}/no-such-token-file`;
      }),
  }),
  op({
    id: 'approle-wrong-secret-id',
    class: 'auth methods',
    title: 'AppRole with a secret_id the role never issued',
    kind: 'breaking',
    when: (f) => f.auth === 'approle' && kwargsReadable(f),
    breaks: () => 'auth',
    apply: (w) => w.editKwargs((kw) => (kw.secret_id = '00000000-0000-0000-0000-000000000000')),
  }),
  op({
    id: 'approle-mount-empty',
    class: 'auth methods',
    title: 'AppRole logging in at an auth mount where nothing is enabled',
    kind: 'breaking',
    when: (f) => f.auth === 'approle' && kwargsReadable(f),
    breaks: () => 'auth',
    apply: (w) => w.editKwargs((kw) => (kw.auth_mount_point = 'approle-prod')),
  }),
  op({
    id: 'approle-secret-id-spent',
    class: 'auth methods',
    title: 'AppRole whose secret_id may be used once and was used',
    kind: 'breaking',
    when: (f) => f.auth === 'approle' && f.base === 'manual' && kwargsReadable(f),
    breaks: () => 'auth',
    apply: async (w) => {
      const ns = { namespace: w.store.namespace };
      const kw = w.kwargs();
      const mount = typeof kw.auth_mount_point === 'string' ? kw.auth_mount_point : 'approle';
      const body = await w.vault('POST', `auth/${mount}/role/airflow/secret-id`, { num_uses: 1 }, ns);
      const secretId = field(body, 'secret_id');
      await w.vault('POST', `auth/${mount}/login`, { role_id: kw.role_id, secret_id: secretId }, ns);
      w.editKwargs((k) => (k.secret_id = secretId));
    },
  }),
  op({
    id: 'userpass-wrong-password',
    class: 'auth methods',
    title: 'userpass with a wrong password',
    kind: 'breaking',
    when: (f) => f.auth === 'userpass' && kwargsReadable(f),
    breaks: () => 'auth',
    apply: (w) => w.editKwargs((kw) => (kw.password = 'not-the-password')),
  }),

  // --- address, TLS and proxies ---------------------------------------------------------------
  op({
    id: 'url-wrong-port',
    class: 'address, TLS and proxies',
    title: 'the kwargs url on a port where nothing listens (VAULT_ADDR right)',
    kind: 'breaking',
    when: (f) => f.urlInKwargs && kwargsReadable(f),
    breaks: () => 'address/TLS/proxy',
    apply: async (w) => {
      const port = await freePort();
      w.editKwargs((kw) => (kw.url = w.server.url.replace(/:\d+$/, `:${port}`)));
    },
  }),
  op({
    id: 'vault-addr-wrong',
    class: 'address, TLS and proxies',
    title: 'no url in the kwargs and VAULT_ADDR on a port where nothing listens',
    kind: 'breaking',
    when: (f) => !f.urlInKwargs && f.vaultAddrInEnv && !f.applied.includes('per-key-url'),
    facts: () => ({ envEdited: true }),
    breaks: () => 'address/TLS/proxy',
    apply: async (w) => {
      const port = await freePort();
      w.setEnv('VAULT_ADDR', w.server.url.replace(/:\d+$/, `:${port}`));
    },
  }),
  op({
    id: 'url-https-on-http',
    class: 'address, TLS and proxies',
    title: 'https:// in the kwargs url against a plain-HTTP server',
    kind: 'breaking',
    when: (f) => !f.tls && f.urlInKwargs && kwargsReadable(f),
    breaks: () => 'address/TLS/proxy',
    apply: (w) => w.editKwargs((kw) => (kw.url = w.server.url.replace(/^http:/, 'https:'))),
  }),
  op({
    id: 'url-http-on-https',
    class: 'address, TLS and proxies',
    title: 'http:// in the kwargs url against a TLS server',
    kind: 'breaking',
    when: (f) => f.tls && f.urlInKwargs && kwargsReadable(f),
    breaks: () => 'address/TLS/proxy',
    apply: (w) => w.editKwargs((kw) => (kw.url = w.server.url.replace(/^https:/, 'http:'))),
  }),
  op({
    id: 'tls-no-ca',
    class: 'address, TLS and proxies',
    title: 'TLS without the CA anywhere: no verify kwarg, no VAULT_CACERT',
    kind: 'breaking',
    when: (f) => f.tls && kwargsReadable(f) && !f.applied.includes('tls-ca-bundle-env'),
    facts: () => ({ caInEnv: false, envEdited: true }),
    breaks: () => 'address/TLS/proxy',
    apply: (w) => {
      w.editKwargs((kw) => {
        delete kw.verify;
      });
      for (const k of ['VAULT_CACERT', 'BAO_CACERT']) w.unsetEnv(k);
    },
  }),
  op({
    id: 'tls-cacert-env',
    class: 'address, TLS and proxies',
    title: 'no verify kwarg: hvac verifies with VAULT_CACERT from .env',
    kind: 'benign',
    when: (f) => f.tls && f.caInEnv && kwargsReadable(f) && !f.applied.some((a) => a.startsWith('tls-')),
    apply: (w) =>
      w.editKwargs((kw) => {
        delete kw.verify;
      }),
  }),
  op({
    id: 'tls-ca-missing',
    class: 'address, TLS and proxies',
    title: 'verify names a CA file that does not exist',
    kind: 'breaking',
    when: (f) => f.tls && kwargsReadable(f),
    breaks: () => 'address/TLS/proxy',
    apply: (w) => w.editKwargs((kw) => (kw.verify = `${w.dir}/no-such-ca.pem`)),
  }),
  op({
    id: 'tls-ca-bundle-env',
    class: 'address, TLS and proxies',
    title: 'the CA only from REQUESTS_CA_BUNDLE in .env (no verify kwarg, no VAULT_CACERT)',
    kind: 'benign',
    when: (f) => f.tls && kwargsReadable(f) && !f.applied.some((a) => a.startsWith('tls-')),
    facts: () => ({ caInEnv: false, envEdited: true }),
    apply: (w) => {
      w.editKwargs((kw) => {
        delete kw.verify;
      });
      for (const k of ['VAULT_CACERT', 'BAO_CACERT']) w.unsetEnv(k);
      w.setEnv('REQUESTS_CA_BUNDLE', w.server.caFile ?? '');
    },
  }),
  op({
    id: 'tls-verify-false',
    class: 'address, TLS and proxies',
    title: 'verify false against the TLS server',
    kind: 'benign',
    when: (f) => f.tls && kwargsReadable(f) && !f.applied.some((a) => a.startsWith('tls-')),
    apply: (w) => w.editKwargs((kw) => (kw.verify = false)),
  }),
  op({
    id: 'proxy-bypassed',
    class: 'address, TLS and proxies',
    title: 'HTTP(S)_PROXY in the shell, NO_PROXY covering the loopback address',
    kind: 'benign',
    when: (f) => !f.applied.some((a) => a.startsWith('proxy')),
    apply: async (w) => {
      const proxy = `http://127.0.0.1:${await freePort()}`;
      Object.assign(w.shell, { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, NO_PROXY: '127.0.0.1,localhost' });
    },
  }),
  op({
    id: 'proxy-not-bypassed',
    class: 'address, TLS and proxies',
    title: 'HTTP(S)_PROXY in the shell (a proxy that is down) and no NO_PROXY',
    kind: 'breaking',
    when: (f) => !f.applied.some((a) => a.startsWith('proxy')),
    facts: () => ({ envEdited: true }),
    breaks: () => 'address/TLS/proxy',
    apply: async (w) => {
      const proxy = `http://127.0.0.1:${await freePort()}`;
      for (const k of ['NO_PROXY', 'no_proxy']) {
        w.unsetEnv(k);
        delete w.shell[k];
      }
      Object.assign(w.shell, { HTTP_PROXY: proxy, HTTPS_PROXY: proxy });
    },
  }),
  op({
    id: 'proxies-kwarg-dead',
    class: 'address, TLS and proxies',
    title: 'a proxies kwarg naming a proxy that is down (NO_PROXY does not bypass it)',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'address/TLS/proxy',
    apply: async (w) => {
      const proxy = `http://127.0.0.1:${await freePort()}`;
      w.editKwargs((kw) => (kw.proxies = { http: proxy, https: proxy }));
    },
  }),

  // --- the server's state ---------------------------------------------------------------------
  op({
    id: 'server-stopped',
    class: 'Vault server state',
    title: 'the sandbox server stopped (down)',
    kind: 'breaking',
    when: (f) => f.base === 'tool',
    breaks: () => 'address/TLS/proxy',
    apply: async (w, _f, ctx) => {
      const r = await runProcess(CLI, ['down', w.dir], { cwd: ctx.ws.cwd, env: ctx.ws.env, timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`corpus set-up: down ${w.dir}: ${r.stderr}`);
    },
  }),
  op({
    id: 'server-sealed',
    class: 'Vault server state',
    title: 'the sandbox server sealed',
    kind: 'breaking',
    when: (f) => f.base === 'tool',
    breaks: () => 'address/TLS/proxy',
    apply: async (w) => {
      await w.vault('PUT', 'sys/seal');
    },
  }),

  // --- policies -------------------------------------------------------------------------------
  op({
    id: 'policy-no-data',
    class: 'policies',
    title: 'a policy written for <mount>/connections/* (no data/ on KV v2)',
    kind: 'breaking',
    when: (f) => f.kv === 2 && f.tokenVia !== 'per-key' && kwargsReadable(f),
    facts: () => ({ rootToken: false }),
    breaks: () => 'policy',
    apply: async (w, f) => {
      const name = await airflowPolicy(w, f);
      const text = policyFor(w.store, paths(f)).replaceAll(`"${w.store.mount}/data/`, `"${w.store.mount}/`);
      await writePolicy(w, name, text);
    },
  }),
  op({
    id: 'policy-other-path',
    class: 'policies',
    title: "a policy that reads another team's path only",
    kind: 'breaking',
    when: (f) => f.tokenVia !== 'per-key' && kwargsReadable(f),
    facts: () => ({ rootToken: false }),
    breaks: () => 'policy',
    apply: async (w, f) => {
      const name = await airflowPolicy(w, f);
      await writePolicy(w, name, `path "${dataPath(w, 'other-team')}/*" { capabilities = ["read"] }\n`);
    },
  }),
  op({
    id: 'policy-list-only',
    class: 'policies',
    title: 'a policy granting list but not read',
    kind: 'breaking',
    when: (f) => f.tokenVia !== 'per-key' && kwargsReadable(f),
    facts: () => ({ rootToken: false }),
    breaks: () => 'policy',
    apply: async (w, f) => {
      const name = await airflowPolicy(w, f);
      await writePolicy(w, name, policyFor(w.store, paths(f)).replaceAll('["read"]', '["list"]'));
    },
  }),
  op({
    id: 'policy-deny',
    class: 'policies',
    title: 'a policy that reads the path but denies this connection',
    kind: 'breaking',
    when: (f) => f.tokenVia !== 'per-key' && kwargsReadable(f),
    facts: () => ({ rootToken: false }),
    breaks: () => 'policy',
    apply: async (w, f) => {
      const name = await airflowPolicy(w, f);
      const id = w.conns[0]?.id ?? '';
      const deny = `path "${dataPath(w, w.store.connectionsPath)}/${id}" { capabilities = ["deny"] }\n`;
      await writePolicy(w, name, policyFor(w.store, paths(f)) + deny);
    },
  }),

  // --- mounts and paths -----------------------------------------------------------------------
  op({
    id: 'mount-wrong',
    class: 'mounts and paths',
    title: 'mount_point where nothing is mounted',
    kind: 'breaking',
    when: (f) => kwargsReadable(f) && !f.applied.includes('per-key-mount'),
    breaks: () => 'mount and path',
    apply: (w) => w.editKwargs((kw) => (kw.mount_point = 'nothere')),
  }),
  op({
    id: 'mount-null',
    class: 'mounts and paths',
    title: 'mount_point null (the id itself would have to start with the mount)',
    kind: 'breaking',
    when: (f) => kwargsReadable(f) && !f.applied.includes('per-key-mount'),
    breaks: () => 'mount and path',
    apply: (w) => w.editKwargs((kw) => (kw.mount_point = null)),
  }),
  op({
    id: 'mount-doubled',
    class: 'mounts and paths',
    title: 'the mount repeated in connections_path (secret/connections)',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'mount and path',
    apply: (w) =>
      w.editKwargs((kw) => (kw.connections_path = [w.store.mount, w.store.connectionsPath].filter(Boolean).join('/'))),
  }),
  op({
    id: 'kv-version-mismatch',
    class: 'mounts and paths',
    title: "kv_engine_version not the mount's version",
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'mount and path',
    apply: (w, f) => w.editKwargs((kw) => (kw.kv_engine_version = f.kv === 2 ? 1 : 2)),
  }),
  op({
    id: 'connections-path-wrong',
    class: 'mounts and paths',
    title: 'connections_path with a typo (nothing there)',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'mount and path',
    apply: (w) => w.editKwargs((kw) => (kw.connections_path = `${w.store.connectionsPath || 'connections'}-old`)),
  }),
  op({
    id: 'connections-path-null',
    class: 'mounts and paths',
    title: 'connections_path null (Vault never asked for connections)',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'mount and path',
    apply: (w) => w.editKwargs((kw) => (kw.connections_path = null)),
  }),
  op({
    id: 'variables-path-null',
    class: 'mounts and paths',
    title: 'variables_path null with a variable seeded',
    kind: 'breaking',
    when: (f) => f.hasVar && kwargsReadable(f),
    breaks: () => 'mount and path',
    apply: (w) => w.editKwargs((kw) => (kw.variables_path = null)),
  }),
  op({
    id: 'namespace-wrong',
    class: 'mounts and paths',
    title: 'the kwargs namespace names an empty namespace',
    kind: 'breaking',
    when: (f) => f.namespace && kwargsReadable(f),
    breaks: () => 'mount and path',
    apply: async (w) => {
      await w.vault('POST', `sys/namespaces/empty${w.n}`, {});
      w.editKwargs((kw) => (kw.namespace = `empty${w.n}`));
    },
  }),
  op({
    id: 'namespace-missing',
    class: 'mounts and paths',
    title: 'no namespace in the kwargs while the secrets live in one',
    kind: 'breaking',
    when: (f) => f.namespace && kwargsReadable(f) && f.auth === 'token',
    breaks: () => 'mount and path',
    apply: (w) =>
      w.editKwargs((kw) => {
        delete kw.namespace;
      }),
  }),
  op({
    id: 'secret-missing',
    class: 'mounts and paths',
    title: "nothing at the connection's path (never written, or deleted)",
    kind: 'breaking',
    when: () => true,
    breaks: () => 'mount and path',
    apply: async (w) => {
      const c = w.conns[0];
      if (c) await w.deleteSecret('conn', c.id);
    },
  }),
  op({
    id: 'secret-version-deleted',
    class: 'mounts and paths',
    title: "the secret's latest KV v2 version deleted (soft delete)",
    kind: 'breaking',
    when: (f) => f.kv === 2,
    breaks: () => 'mount and path',
    apply: async (w) => {
      const c = w.conns[0];
      if (c) await w.vault('DELETE', w.secretPath('conn', c.id), undefined, { namespace: w.store.namespace });
    },
  }),
];
