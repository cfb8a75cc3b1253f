/** A real dev server for client-level tests: plain or `-dev-tls`, on a chosen loopback host, stopped by `stop()`. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy } from './fault-proxy.js';
import { freePort, killAndWait, TEMP_PREFIX } from './sandbox.js';

export interface TestServer {
  url: string;
  token: string;
  pid: number;
  /** The CA the server generated (`-dev-tls` only). */
  caFile?: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startDevServer(bin: string, opts: { tls?: boolean; host?: string } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
  const host = opts.host ?? '127.0.0.1';
  const port = await freePort();
  const token = 'test-root-token';
  const certDir = join(dir, 'tls');
  const args = ['server', '-dev', `-dev-listen-address=${host}:${port}`, '-dev-no-store-token'];
  if (opts.tls) {
    mkdirSync(certDir);
    args.push('-dev-tls', `-dev-tls-cert-dir=${certDir}`);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    VAULT_DEV_ROOT_TOKEN_ID: token,
    BAO_DEV_ROOT_TOKEN_ID: token,
  };
  for (const k of ['VAULT_TOKEN', 'BAO_TOKEN', 'VAULT_ADDR', 'BAO_ADDR']) delete env[k];
  const child = spawn(bin, args, { cwd: dir, env, stdio: 'ignore', detached: true });
  child.unref();
  const pid = child.pid!;
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;
  const stop = async () => {
    await killAndWait(pid);
    rmSync(dir, { recursive: true, force: true });
  };
  const { VaultClient } = await import('../../src/vault/client.js');
  const caFile = opts.tls ? join(certDir, 'vault-ca.pem') : undefined;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await new VaultClient({ url, caFile, timeoutMs: 500 }).health()).status === 200)
        return { url, token, pid, caFile, dir, stop };
    } catch (e) {
      // A certificate refusal (a host outside the certificate's names) still means the server is up.
      if (String((e as { kind?: string }).kind ?? '').startsWith('tls-')) return { url, token, pid, caFile, dir, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`dev server ${bin} ${args.join(' ')} did not become ready`);
}

/**
 * A `-dev-tls` server reached under a name its certificate does not list: https://127.0.0.2 (loopback
 * on Linux), through a pass-through TCP proxy listening there. Not by making the server listen on
 * 127.0.0.2: Vault's -dev-tls adds the listen host to the certificate's names (OpenBao's does not),
 * so only a name the server never saw is foreign to the certificate on both.
 */
export async function underAnotherName(server: TestServer): Promise<{ url: string; close(): Promise<void> }> {
  const proxy = await startFaultProxy(Number(new URL(server.url).port), 'pass', { host: '127.0.0.2' });
  return { url: `https://127.0.0.2:${proxy.port}`, close: proxy.close };
}
