/**
 * --tls (issue 11, item 3) and doctor's TLS explanations, on real servers: the sandbox serves HTTPS
 * with the CA its server generated; doctor names an untrusted CA, a host name the certificate does
 * not list, and http spoken to an HTTPS server, each with a fix.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import { freePort, runCli, workspaces } from '../support/sandbox.js';
import { startDevServer, type TestServer, underAnotherName } from '../support/dev-tls.js';
import { parseEnvFile } from '../../src/airflow/backend/index.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);

describe.skipIf(skipReason)('--tls', () => {
  it('serves HTTPS with its own CA under .sandbox/tls; kwargs verify and VAULT_CACERT carry it; status and doctor speak it', async () => {
    const w = ws();
    const port = await freePort();
    const r = await runCli(w, ['sb', '--yes', '--tls', '--address', `127.0.0.1:${port}`, '--check', 'vault']);
    expect(r.code, r.stderr).toBe(0);
    const dir = join(w.cwd, 'sb');
    const env = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'));
    const ca = join(dir, '.sandbox', 'tls', 'vault-ca.pem');
    expect(env.get('VAULT_ADDR')).toBe(`https://127.0.0.1:${port}`);
    expect(env.get('VAULT_CACERT')).toBe(ca);
    const kw = JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!);
    expect(kw).toMatchObject({ url: `https://127.0.0.1:${port}`, verify: ca });
    expect(readFileSync(ca, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(statSync(join(dir, '.sandbox', 'tls')).mode & 0o777).toBe(0o700);
    // The server really speaks TLS with that CA: curl-like check with node's https and the CA only.
    const { request } = await import('node:https');
    const status = await new Promise<number>((res, rej) => {
      request(`https://127.0.0.1:${port}/v1/sys/health`, { ca: readFileSync(ca) }, (m) => {
        m.resume();
        res(m.statusCode!);
      })
        .on('error', rej)
        .end();
    });
    expect(status).toBe(200);

    const st = await runCli(w, ['status', 'sb', '--json']);
    expect(st.code, st.stdout).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ running: true, answering: true, token_valid: true });
    const d = await runCli(w, ['doctor', 'sb']);
    expect(d.code, d.stdout).toBe(0);
    expect(d.stdout).toContain(`TLS certificate: verified against the CA in ${ca}`);

    // A rerun keeps TLS (the config says server.tls: true) and the running server.
    const again = await runCli(w, ['sb', '--yes', '--check', 'vault']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`https://127.0.0.1:${port}`);
    expect(readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8')).toMatch(/tls: true/);
    // --no-tls goes back to plain HTTP: the server is restarted (its certificates go with it) and .env follows.
    const plain = await runCli(w, ['sb', '--yes', '--no-tls', '--check', 'vault']);
    expect(plain.code, plain.stderr).toBe(0);
    const env2 = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'));
    expect(env2.get('VAULT_ADDR')).toBe(`http://127.0.0.1:${port}`);
    expect(env2.has('VAULT_CACERT')).toBe(false);
    expect(existsSync(ca)).toBe(false);
    expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
  });
});

describe.skipIf(skipReason)('doctor on TLS failures (no sandbox: the env says where Vault is)', () => {
  let tls: TestServer;
  let other: TestServer;
  let misnamed: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    [tls, other] = await Promise.all([startDevServer(BIN!, { tls: true }), startDevServer(BIN!, { tls: true })]);
    misnamed = await underAnotherName(tls);
  });
  afterAll(async () => {
    await Promise.all([tls?.stop(), other?.stop(), misnamed?.close()]);
  });

  function envFor(url: string, ca: string | undefined, token: string): NodeJS.ProcessEnv {
    const kw: Record<string, unknown> = {
      connections_path: 'connections',
      mount_point: 'secret',
      kv_engine_version: 2,
      url,
      token,
    };
    if (ca) kw.verify = ca;
    return {
      AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify(kw),
      ...(ca ? { VAULT_CACERT: ca } : {}),
      // Airflow's requests trusts these bundles when verify is not a path: none here, whatever the machine sets.
      REQUESTS_CA_BUNDLE: '',
      CURL_CA_BUNDLE: '',
    };
  }

  it('the right CA: verified', async () => {
    const d = await runCli(ws(), ['doctor', 'nowhere'], { env: envFor(tls.url, tls.caFile, tls.token) });
    expect(d.stdout).toContain(`[✓] TLS certificate: verified against the CA in ${tls.caFile}`);
  });

  it('another CA: not signed by the CA in that file, with the fix', async () => {
    const d = await runCli(ws(), ['doctor', 'nowhere'], { env: envFor(tls.url, other.caFile, tls.token) });
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(
      new RegExp(
        `\\[✗\\] TLS certificate: the server's certificate is not signed by the CA in ${other.caFile!.replace(/[.]/g, '\\.')}`,
      ),
    );
    expect(d.stdout).toMatch(/Fix: .*"verify".*<your CA file>.*# the PEM file of the CA that signed/);
    // Reachable is not claimed: the server answers, but the certificate stops the request.
    expect(d.stdout).toMatch(
      /\[-\] Server reachable: it answers, but its certificate stops the request: see "TLS certificate"/,
    );
  });

  it('no CA at all: not signed by a CA this machine trusts; the fix gives the kwargs key', async () => {
    const d = await runCli(ws(), ['doctor', 'nowhere'], { env: envFor(tls.url, undefined, tls.token) });
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(
      /\[✗\] TLS certificate: the server's certificate is not signed by a CA this machine trusts/,
    );
    // The kwargs live in the shell here: the fix rewrites that variable, the CA file the user's to name.
    expect(d.stdout).toContain('k["verify"]=json.loads("\\"<your CA file>\\"")');
  });

  it('a host name the certificate does not list', async () => {
    const d = await runCli(ws(), ['doctor', 'nowhere'], { env: envFor(misnamed.url, tls.caFile, tls.token) });
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(
      /\[✗\] TLS certificate: the server's certificate is not valid for the host name '127\.0\.0\.2'/,
    );
  });

  it('http:// to the HTTPS server: named, with the https url as the fix', async () => {
    const d = await runCli(ws(), ['doctor', 'nowhere'], {
      env: envFor(tls.url.replace('https:', 'http:'), undefined, tls.token),
    });
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/\[✗\] http or https: http:\/\/127\.0\.0\.1:\d+ uses http, but the server speaks HTTPS/);
    // The url lives in the kwargs of the shell: the fix sets it there to the https url.
    const fix = d.stdout.split('\n').find((l) => l.startsWith('    Fix: export AIRFLOW__SECRETS__BACKEND_KWARGS='));
    expect(fix).toContain(tls.url);
  });
});
