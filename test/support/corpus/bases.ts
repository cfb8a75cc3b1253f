/**
 * The two ways a working set-up comes about, before any operator touches it:
 * - `tool`: `create-secrets-sandbox <dir> --yes ...` (its own server, .env, secrets-sandbox.yaml),
 *   with the flags a user picks (auth, format, TLS, mount and paths, the Airflow it is for);
 * - `manual`: a dev server started by hand, secrets put there, and a .env and
 *   secrets-sandbox.yaml written the way a user following Airflow's docs would (doctor is for "any
 *   Vault + Airflow setup" too).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../env.js';
import { freePort, processesUnder, runProcess, type Workspace } from '../sandbox.js';
import { fieldsOf, plainConn, uriOf } from './conns.js';
import { field, vaultCall } from './vault-http.js';
import { BACKEND, KWARGS, PROVIDER, type ConnSeed, type Facts, type Major, World } from './world.js';

export interface BaseSpec {
  kind: 'tool' | 'manual';
  auth: 'token' | 'approle' | 'userpass';
  /** Manual token auth: a token whose policy reads exactly the paths, not the root token. */
  leastPrivilege: boolean;
  format: 'uri' | 'fields';
  tls: boolean;
  /** Manual only: the KV version of the mount. */
  kv: 1 | 2;
  mount: string;
  connectionsPath: string;
  variablesPath: string;
  /** A variable besides the connection. */
  variable: boolean;
  /** The connection's password holds characters a URI must escape (the URI escapes them). */
  specialPassword: boolean;
  /** The connection has an extra (a query string in a URI, a JSON extra field). */
  extra: boolean;
  connKind: number;
  /** Manual only: the secrets live in a Vault namespace. */
  namespace: boolean;
  /** Tool only: --airflow-version for the set-up's major, or left to auto (3 when no Airflow is found). */
  airflowVersion: 'major' | 'auto';
}

export const ROOT_TOKEN = (n: number): string => `corpus-root-${n}`;

/** Set-ups whose `create` failed once and was run again (the reports print them). */
export const CREATE_RETRIES: string[] = [];

const lastLines = (text: string): string => text.trim().split('\n').slice(-2).join(' ').slice(0, 300);

/** Kills every process running under `dir` (a set-up's servers); returns their pids. */
export function killUnder(dir: string): number[] {
  const left = processesUnder(dir);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  return left;
}

export function policyFor(store: World['store'], paths: ('conn' | 'var')[]): string {
  const data = store.version === 2 ? `${store.mount}/data` : store.mount;
  return paths
    .map((k) => {
      const base = k === 'conn' ? store.connectionsPath : store.variablesPath;
      return `path "${[data, base, '*'].filter(Boolean).join('/')}" { capabilities = ["read"] }\n`;
    })
    .join('');
}

/** Reads a .env the way the user's shell does (bash sources it), keeping each line's key in order. */
export async function sourceEnvFile(
  dir: string,
  file: string,
): Promise<{ head: string[]; entries: [string, string][] }> {
  const text = readFileSync(file, 'utf8');
  const r = await runProcess('bash', ['-c', 'set -a; . "$1" >/dev/null 2>&1; set +a; env -0', 'source-env', file], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir },
  });
  const env = new Map<string, string>();
  for (const kv of r.stdout.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  const head: string[] = [];
  const entries: [string, string][] = [];
  for (const line of text.split('\n')) {
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    const key = m?.[1];
    if (key !== undefined && env.has(key)) entries.push([key, env.get(key) ?? '']);
    else if (line.trim()) head.push(line);
  }
  return { head, entries };
}

/** The facts of a base before any operator (pure: the generator simulates set-ups with it). */
export function baseFacts(major: Major, b: BaseSpec): Facts {
  return {
    major,
    base: b.kind,
    auth: b.auth,
    tokenVia: 'kwargs',
    format: b.format,
    kv: b.kind === 'tool' ? 2 : b.kv,
    tls: b.tls,
    rootToken: b.auth === 'token' && !(b.kind === 'manual' && b.leastPrivilege),
    urlInKwargs: true,
    namespace: b.kind === 'manual' && b.namespace,
    mount: b.mount,
    hasVar: b.variable,
    vaultAddrInEnv: true,
    // The tool writes VAULT_TOKEN for token auth (the vault CLI and hvac read it); by hand, users seldom do.
    vaultTokenInEnv: b.kind === 'tool' && b.auth === 'token',
    // Both write VAULT_CACERT with TLS: the vault CLI reads it, and so does hvac when no verify is given.
    caInEnv: b.tls,
    defaultPaths:
      b.mount === 'secret' &&
      (b.kind === 'tool' || b.kv === 2) &&
      b.connectionsPath === 'connections' &&
      b.variablesPath === 'variables' &&
      !(b.kind === 'manual' && b.namespace),
    kwargsPlace: 'env',
    classPlace: 'env',
    envEdited: false,
    applied: [],
  };
}

function seeds(n: number, b: BaseSpec): { conns: ConnSeed[]; vars: { key: string; value: string }[] } {
  const intent = plainConn(n, b.connKind);
  if (b.specialPassword) intent.password = `p#w/d?x@y%z:${n} +`;
  if (b.extra) intent.extra = { sslmode: 'require', application_name: `corpus${n}` };
  return {
    conns: [{ id: `c${n}`, intent, uri: uriOf(intent) }],
    vars: b.variable ? [{ key: `v${n}`, value: `value-${n}` }] : [],
  };
}

/** A set-up made by the tool: `create --yes` with the user's flags, then read back as written. */
export async function toolBase(ws: Workspace, n: number, major: Major, b: BaseSpec): Promise<World> {
  const dir = join(ws.root, `setup-${n}`);
  const home = join(dir, 'airflow-home');
  const { conns, vars } = seeds(n, b);
  const create = async (port: number) => {
    const args = [
      dir,
      '--yes',
      '--address',
      `127.0.0.1:${port}`,
      '--root-token',
      ROOT_TOKEN(n),
      '--check',
      'vault',
      '--mount',
      b.mount,
      '--connections-path',
      b.connectionsPath,
      '--variables-path',
      b.variablesPath,
      '--auth',
      b.auth === 'approle' ? 'approle' : 'token',
      '--format',
      b.format,
      ...(b.tls ? ['--tls'] : []),
      ...(b.airflowVersion === 'major' ? ['--airflow-version', major] : []),
      ...conns.flatMap((c) => ['--conn', `${c.id}=${c.uri}`]),
      ...vars.flatMap((v) => ['--var', `${v.key}=${v.value}`]),
    ];
    return { args, run: await runProcess(CLI, args, { cwd: ws.cwd, env: ws.env, timeoutMs: 60_000 }) };
  };
  let port = await freePort();
  let { args, run: r } = await create(port);
  // On a machine shared by several suites a free port can be taken between the pick and the bind
  // (the tool then may meet another server there). Once, on another port, in a fresh dir; counted
  // in the run's report, not hidden.
  if (r.code === 1) {
    CREATE_RETRIES.push(`#${n}: ${lastLines(r.stderr)}`);
    killUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    port = await freePort();
    ({ args, run: r } = await create(port));
  }
  if (r.code !== 0)
    throw new Error(`corpus set-up: create ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-600)}`);
  mkdirSync(home, { recursive: true });
  const { head, entries } = await sourceEnvFile(dir, join(dir, '.env'));
  const env = new Map(entries);
  const caFile = env.get('VAULT_CACERT');
  const url = `${b.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const w = new World(
    major,
    n,
    ws.root,
    dir,
    home,
    {
      url,
      port,
      token: ROOT_TOKEN(n),
      pid: 0,
      by: 'tool',
      caFile,
      ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
    },
    {
      mount: b.mount,
      version: 2,
      connectionsPath: b.connectionsPath,
      variablesPath: b.variablesPath,
    },
  );
  w.envHead = head;
  w.env = entries.map(([key, value]) => ({ key, value, quote: 'single' }));
  w.conns = conns;
  w.vars = vars;
  w.shell = baseShell(w);
  return w;
}

/** The user's shell: nothing of Vault's or Airflow's but AIRFLOW_HOME (a fresh one per set-up). */
export function baseShell(w: World): Record<string, string> {
  return { AIRFLOW_HOME: w.home };
}

/** Starts a dev server by hand, the way a user following a guide would; `cwd` under the workspace. */
export async function startServer(
  ws: Workspace,
  bin: string,
  cwd: string,
  token: string,
  opts: { tls?: boolean; port?: number } = {},
): Promise<{ pid: number; port: number; url: string; caFile?: string; ca?: string; args: string[] }> {
  const port = opts.port ?? (await freePort());
  const args = ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, '-dev-no-store-token'];
  const certDir = join(cwd, 'server-tls');
  if (opts.tls) {
    mkdirSync(certDir, { recursive: true });
    args.push('-dev-tls', `-dev-tls-cert-dir=${certDir}`);
  }
  const child = spawn(bin, args, {
    cwd,
    env: { ...ws.env, VAULT_DEV_ROOT_TOKEN_ID: token, BAO_DEV_ROOT_TOKEN_ID: token },
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  const pid = child.pid ?? 0;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const caFile = opts.tls ? join(certDir, 'vault-ca.pem') : undefined;
  for (let i = 0; i < 400; i++) {
    try {
      const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
      if ((await vaultCall({ url, token, ca }, 'GET', 'sys/health')).status === 200)
        return { pid, port, url, caFile, ca, args };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`corpus set-up: ${bin} ${args.join(' ')} did not become ready`);
}

/** A set-up made by hand: a dev server, secrets put there, a .env and secrets-sandbox.yaml as a user writes them. */
export async function manualBase(ws: Workspace, bin: string, n: number, major: Major, b: BaseSpec): Promise<World> {
  const dir = join(ws.root, `setup-${n}`);
  const home = join(dir, 'airflow-home');
  mkdirSync(home, { recursive: true });
  const token = ROOT_TOKEN(n);
  const s = await startServer(ws, bin, dir, token, { tls: b.tls });
  const namespace = b.namespace ? `ns${n}` : undefined;
  const w = new World(
    major,
    n,
    ws.root,
    dir,
    home,
    { ...s, token, by: 'harness' },
    { mount: b.mount, version: b.kv, namespace, connectionsPath: b.connectionsPath, variablesPath: b.variablesPath },
  );
  if (namespace) await w.vault('POST', `sys/namespaces/${namespace}`, {});
  if (b.mount !== 'secret' || b.kv !== 2 || namespace) {
    if (b.mount === 'secret' && !namespace) await w.vault('DELETE', 'sys/mounts/secret');
    await w.vault('POST', `sys/mounts/${b.mount}`, { type: 'kv', options: { version: String(b.kv) } }, { namespace });
  }
  const { conns, vars } = seeds(n, b);
  w.conns = conns;
  w.vars = vars;
  for (const c of conns) await w.putSecret('conn', c.id, b.format === 'uri' ? { conn_uri: c.uri } : fieldsOf(c.intent));
  for (const v of vars) await w.putSecret('var', v.key, { value: v.value });

  const kwargs: Record<string, unknown> = {
    connections_path: b.connectionsPath,
    variables_path: b.variablesPath,
    mount_point: b.mount,
    kv_engine_version: b.kv,
    url: s.url,
  };
  if (namespace) kwargs.namespace = namespace;
  if (s.caFile) kwargs.verify = s.caFile;
  const paths: ('conn' | 'var')[] = vars.length ? ['conn', 'var'] : ['conn'];
  if (b.auth === 'token') kwargs.token = b.leastPrivilege ? await readerToken(w, paths) : token;
  if (b.auth === 'approle') Object.assign(kwargs, { auth_type: 'approle', ...(await approleLogin(w, paths)) });
  if (b.auth === 'userpass') Object.assign(kwargs, { auth_type: 'userpass', ...(await userpassLogin(w, paths)) });

  w.env = [
    { key: BACKEND, value: PROVIDER, quote: 'single' },
    { key: KWARGS, value: JSON.stringify(kwargs), quote: 'single' },
    { key: 'VAULT_ADDR', value: s.url, quote: 'single' },
  ];
  if (s.caFile) w.env.push({ key: 'VAULT_CACERT', value: s.caFile, quote: 'single' });
  w.envDirty = true;
  w.writeYaml = true;
  w.shell = baseShell(w);
  return w;
}

/** A token whose policy reads exactly the set-up's paths. */
export async function readerToken(
  w: World,
  paths: ('conn' | 'var')[],
  name = `reader-${w.n}`,
  more: Record<string, unknown> = {},
): Promise<string> {
  const ns = { namespace: w.store.namespace };
  await w.vault('PUT', `sys/policies/acl/${name}`, { policy: policyFor(w.store, paths) }, ns);
  const body = { policies: [name], ttl: '2h', ...more };
  return field(await w.vault('POST', 'auth/token/create', body, ns), 'client_token');
}

export async function approleLogin(
  w: World,
  paths: ('conn' | 'var')[],
  mount = 'approle',
): Promise<{ role_id: string; secret_id: string; auth_mount_point?: string }> {
  const ns = { namespace: w.store.namespace };
  await w.vault('PUT', `sys/policies/acl/approle-${w.n}`, { policy: policyFor(w.store, paths) }, ns);
  await w.vault('POST', `sys/auth/${mount}`, { type: 'approle' }, ns);
  await w.vault('POST', `auth/${mount}/role/airflow`, { token_policies: [`approle-${w.n}`], token_ttl: '1h' }, ns);
  const roleId = field(await w.vault('GET', `auth/${mount}/role/airflow/role-id`, undefined, ns), 'role_id');
  const secretId = field(await w.vault('POST', `auth/${mount}/role/airflow/secret-id`, {}, ns), 'secret_id');
  w.knows.roleId = roleId;
  w.knows.approleMount = mount;
  return { role_id: roleId, secret_id: secretId, ...(mount !== 'approle' ? { auth_mount_point: mount } : {}) };
}

export async function userpassLogin(
  w: World,
  paths: ('conn' | 'var')[],
  mount = 'userpass',
): Promise<{ username: string; password: string; auth_mount_point?: string }> {
  const ns = { namespace: w.store.namespace };
  await w.vault('PUT', `sys/policies/acl/userpass-${w.n}`, { policy: policyFor(w.store, paths) }, ns);
  await w.vault('POST', `sys/auth/${mount}`, { type: 'userpass' }, ns);
  const password = `pw-${w.n}-secret`;
  w.knows.password = password;
  await w.vault('POST', `auth/${mount}/users/airflow`, { password, token_policies: [`userpass-${w.n}`] }, ns);
  return { username: 'airflow', password, ...(mount !== 'userpass' ? { auth_mount_point: mount } : {}) };
}
