/**
 * A stand-in for the team's Vault: a real server in non-dev mode (integrated raft storage: OpenBao
 * has no file backend), initialised and unsealed here, serving TLS with a CA this helper makes with
 * openssl (SANs 127.0.0.1 and localhost). Nothing about it is a dev server: no secret/ mount, no
 * root token id of our choosing, a seal. `stop()` kills it and removes its files.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killAndWait, TEMP_PREFIX } from './sandbox.js';

export interface ExistingVault {
  url: string;
  caFile: string;
  rootToken: string;
  dir: string;
  pid: number;
  /** One request with the root token (or none), over TLS with the CA; the parsed JSON body. */
  api(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
    namespace?: string,
  ): Promise<{ status: number; json: any }>;
  /** Waits until a new KV v2 mount has finished its upgrade and accepts requests. */
  kvReady(mount: string, namespace?: string): Promise<void>;
  stop(): Promise<void>;
}

function makeCa(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=existing-vault-test-ca',
  ]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    'req.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-extfile',
    'ext',
  ]);
  return { ca: f('ca.pem'), cert: f('cert.pem'), key: f('key.pem') };
}

export async function startExistingVault(bin: string): Promise<ExistingVault> {
  const dir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}vault-`));
  const { ca, cert, key } = makeCa(dir);
  const port = await freePort();
  mkdirSync(join(dir, 'raft'));
  writeFileSync(
    join(dir, 'server.hcl'),
    `storage "raft" {\n  path = "${join(dir, 'raft')}"\n  node_id = "n1"\n}\n` +
      `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  cluster_address = "127.0.0.1:${port + 1}"\n  tls_cert_file = "${cert}"\n  tls_key_file = "${key}"\n}\n` +
      `api_addr = "https://127.0.0.1:${port}"\ncluster_addr = "https://127.0.0.1:${port + 1}"\ndisable_mlock = true\n`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir };
  for (const k of Object.keys(env)) if (/^(VAULT_|BAO_)/.test(k)) delete env[k];
  const child = spawn(bin, ['server', `-config=${join(dir, 'server.hcl')}`], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
  });
  child.unref();
  const pid = child.pid!;
  const url = `https://127.0.0.1:${port}`;
  const caPem = readFileSync(ca);
  const api: ExistingVault['api'] = (method, path, body, token, namespace) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = {};
      if (token) headers['X-Vault-Token'] = token;
      if (namespace) headers['X-Vault-Namespace'] = namespace;
      if (payload) headers['Content-Type'] = 'application/json';
      const req = request(`${url}/v1/${path}`, { method, headers, ca: caPem }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  const stop = async () => {
    await killAndWait(pid);
    rmSync(dir, { recursive: true, force: true });
  };
  const until = async (what: string, ok: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (await ok().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await stop();
    throw new Error(`existing-vault test server: ${what} did not happen within 30 s`);
  };
  await until('listening', async () => (await api('GET', 'sys/health')).status === 501);
  const init = await api('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
  const rootToken = init.json.root_token as string;
  await api('PUT', 'sys/unseal', { key: init.json.keys[0] });
  await until('active after unseal', async () => (await api('GET', 'sys/health')).status === 200);
  // A team's Vault has its KV mount already; a non-dev server has none until someone makes it.
  await until('KV mounted', async () =>
    [200, 204].includes(
      (await api('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } }, rootToken)).status,
    ),
  );
  // A new KV v2 mount upgrades itself for a moment and refuses requests meanwhile (400): wait until it lists.
  const kvReady = (mount: string, namespace?: string) =>
    until(`KV ${mount} ready`, async () =>
      [200, 404].includes((await api('GET', `${mount}/metadata/?list=true`, undefined, rootToken, namespace)).status),
    );
  await kvReady('secret');
  return { url, caFile: ca, rootToken, dir, pid, api, kvReady, stop };
}
