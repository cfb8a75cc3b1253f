/**
 * The client's AppRole, policy, namespace and TLS calls against a real server (OpenBao `bao`, or
 * VAULT_BIN). Expected values come from the server's behaviour, not from our code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultClient, VaultError } from '../../src/vault/client.js';
import { authFor, loggedIn } from '../../src/vault/auth/index.js';
import { renderPolicy } from '../../src/vault/auth/policy.js';
import { clientFor, existingTarget } from '../../src/target/index.js';
import { missing, serverBinary } from '../support/env.js';
import { startDevServer, type TestServer, underAnotherName } from '../support/dev-tls.js';

const bin = serverBinary();
const skipReason = missing('server binary (bao or vault)', bin);

async function vaultError(p: Promise<unknown>): Promise<VaultError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VaultError) return e;
    throw e;
  }
  throw new Error('expected a VaultError');
}

describe.skipIf(skipReason)('VaultClient against a real -dev-tls server', () => {
  let tls: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    [tls, plain] = await Promise.all([startDevServer(bin!, { tls: true }), startDevServer(bin!)]);
  });
  afterAll(async () => {
    await Promise.all([tls?.stop(), plain?.stop()]);
  });

  it('AppRole: enable, policy, role, role_id, secret_id; the login token reads exactly what the policy allows', async () => {
    const root = new VaultClient({ url: tls.url, token: tls.token, caFile: tls.caFile });
    expect(await root.enableAuthMethod('approle', 'approle')).toBe(true);
    expect(await root.enableAuthMethod('approle', 'approle')).toBe(false); // idempotent on rerun
    expect((await root.listAuthMethods()).approle).toBe('approle');
    const hcl = renderPolicy({
      mount: 'secret',
      connectionsPath: 'connections',
      variablesPath: 'variables',
      kvVersion: 2,
    });
    await root.writePolicy('airflow-read', hcl);
    expect(await root.readPolicy('airflow-read')).toBe(hcl);
    expect(await root.readPolicy('no-such-policy')).toBeNull();
    await root.writeAppRole('approle', 'airflow', { tokenPolicies: ['airflow-read'], secretIdTtl: 3600 });
    const roleId = await root.readRoleId('approle', 'airflow');
    const { secretId, ttl } = await root.generateSecretId('approle', 'airflow');
    expect(ttl).toBe(3600);
    await root.kvWrite('secret', 'connections/smtp_default', { conn_uri: 'smtps://u:p@h:465' });
    await root.kvWrite('secret', 'other/thing', { x: 1 });

    const auth = authFor({ method: 'approle', roleId, secretId });
    const login = await auth.login(new VaultClient({ url: tls.url, caFile: tls.caFile }));
    expect(login.policies).toContain('airflow-read');
    expect(login.policies).not.toContain('root');
    const app = await loggedIn(new VaultClient({ url: tls.url, caFile: tls.caFile }), auth);
    expect((await app.kvRead('secret', 'connections/smtp_default'))?.data).toEqual({ conn_uri: 'smtps://u:p@h:465' });
    const denied = await vaultError(app.kvRead('secret', 'other/thing'));
    expect(denied.kind).toBe('http');
    expect(denied.status).toBe(403);
    expect(denied.message).not.toContain(login.token);

    // A wrong secret_id: the login fails with the server's status, and nothing of the secret in the message.
    const bad = await vaultError(
      authFor({ method: 'approle', roleId, secretId: 'not-the-secret-id' }).login(
        new VaultClient({ url: tls.url, caFile: tls.caFile }),
      ),
    );
    expect(bad.status).toBe(400);
    expect(bad.message).not.toContain('not-the-secret-id');
  });

  it('a namespace is sent as X-Vault-Namespace: a secret written in it is not visible outside it', async (ctx) => {
    const root = new VaultClient({ url: tls.url, token: tls.token, caFile: tls.caFile });
    // Vault's Community Edition has no namespaces (sys/health says enterprise: false); test/e2e/existing-vault.test.ts covers it.
    if ((await root.health()).body?.enterprise === false)
      ctx.skip('this server has no namespaces (Vault Community Edition)');
    const res = await fetch(`${plain.url}/v1/sys/namespaces/team-a`, {
      method: 'POST',
      headers: { 'X-Vault-Token': plain.token },
    });
    expect(res.status).toBe(200);
    const inNs = clientFor(existingTarget(plain.url, { namespace: 'team-a' }), plain.token);
    await inNs.enableKv('kv', 2);
    await inNs.kvWrite('kv', 'connections/c1', { conn_uri: 'http://h' });
    expect((await inNs.kvRead('kv', 'connections/c1'))?.data).toEqual({ conn_uri: 'http://h' });
    const outside = new VaultClient({ url: plain.url, token: plain.token });
    expect(await outside.mountInfo('kv')).toBeNull();
    expect(root.namespace).toBeUndefined();
  });

  it('https without the CA: tls-untrusted with the node code; with the CA: answers', async () => {
    const e = await vaultError(new VaultClient({ url: tls.url }).health());
    expect(e.kind).toBe('tls-untrusted');
    expect(e.code).toMatch(/^[A-Z_]+$/);
    expect((await new VaultClient({ url: tls.url, caFile: tls.caFile }).health()).status).toBe(200);
  });

  it('a CA file that cannot be read: kind ca-file, not a silent fallback', async () => {
    const e = await vaultError(new VaultClient({ url: tls.url, caFile: '/nonexistent/ca.pem' }).health());
    expect(e.kind).toBe('ca-file');
  });

  it('http:// to the TLS server and https:// to a plain one: both are kind scheme', async () => {
    const toTls = await vaultError(new VaultClient({ url: tls.url.replace('https:', 'http:') }).health());
    expect(toTls.kind).toBe('scheme');
    const toPlain = await vaultError(new VaultClient({ url: plain.url.replace('http:', 'https:') }).health());
    expect(toPlain.kind).toBe('scheme');
  });
});

describe.skipIf(skipReason)('a certificate for another host name', () => {
  let srv: TestServer;
  let misnamed: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    srv = await startDevServer(bin!, { tls: true });
    misnamed = await underAnotherName(srv);
  });
  afterAll(async () => Promise.all([misnamed?.close(), srv?.stop()]));

  it('is kind tls-hostname, with the trusted CA', async () => {
    const e = await vaultError(new VaultClient({ url: misnamed.url, caFile: srv.caFile }).health());
    expect(e.kind).toBe('tls-hostname');
    expect(e.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
