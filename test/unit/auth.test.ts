import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authFor, AuthError } from '../../src/vault/auth/index.js';
import { readGlob, renderPolicy } from '../../src/vault/auth/policy.js';
import { clientFor, describeTarget, devTarget, existingTarget, manages } from '../../src/target/index.js';
import { backendKwargs, envEntries } from '../../src/airflow/backend/index.js';
import { devTlsArgs, devTlsCaFile } from '../../src/vault/tls.js';

describe('auth methods', () => {
  it('token: kwargs carry the token; login needs no request and returns it', async () => {
    const a = authFor({ method: 'token', token: 'hvs.abc' });
    expect(a.backendKwargs()).toEqual({ token: 'hvs.abc' });
    expect((await a.login(clientFor(devTarget('http://127.0.0.1:1')))).token).toBe('hvs.abc');
    expect(a.describe()).not.toContain('hvs.abc');
  });

  it('token_path: read and stripped like the provider; an unreadable file is an AuthError of kind token-file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'css-auth-'));
    const f = join(dir, 'token');
    writeFileSync(f, '  s.from-file\n');
    const a = authFor({ method: 'token', tokenPath: f });
    expect(a.backendKwargs()).toEqual({ token_path: f });
    expect((await a.login(clientFor(devTarget('http://127.0.0.1:1')))).token).toBe('s.from-file');
    const missing = authFor({ method: 'token', tokenPath: join(dir, 'nope') });
    await expect(missing.login(clientFor(devTarget('http://127.0.0.1:1')))).rejects.toMatchObject({
      kind: 'token-file',
    });
    await expect(missing.login(clientFor(devTarget('http://127.0.0.1:1')))).rejects.toBeInstanceOf(AuthError);
  });

  it("approle: the provider's keys, auth_mount_point only when not the default", () => {
    expect(authFor({ method: 'approle', roleId: 'r-1', secretId: 's-1' }).backendKwargs()).toEqual({
      auth_type: 'approle',
      role_id: 'r-1',
      secret_id: 's-1',
    });
    expect(
      authFor({ method: 'approle', roleId: 'r-1', secretId: 's-1', mount: 'airflow-approle' }).backendKwargs(),
    ).toEqual({
      auth_type: 'approle',
      role_id: 'r-1',
      secret_id: 's-1',
      auth_mount_point: 'airflow-approle',
    });
    expect(authFor({ method: 'approle', roleId: 'r-1', secretId: 's-secret' }).describe()).not.toContain('s-secret');
  });
});

describe('least-privilege policy', () => {
  it('KV v2: read on <mount>/data/<path>/* for connections and variables, and nothing else', () => {
    const hcl = renderPolicy({
      mount: 'secret',
      connectionsPath: 'connections',
      variablesPath: 'variables',
      kvVersion: 2,
    });
    const paths = [...hcl.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1]);
    expect(paths).toEqual(['secret/data/connections/*', 'secret/data/variables/*']);
    expect([...hcl.matchAll(/capabilities = \[([^\]]*)\]/g)].map((m) => m[1])).toEqual(['"read"', '"read"']);
  });

  it('KV v1: no data/ segment', () => {
    const hcl = renderPolicy({
      mount: 'kv',
      connectionsPath: 'airflow/connections',
      variablesPath: 'airflow/variables',
      kvVersion: 1,
    });
    expect([...hcl.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1])).toEqual([
      'kv/airflow/connections/*',
      'kv/airflow/variables/*',
    ]);
  });

  it('one block when both paths are the same', () => {
    const hcl = renderPolicy({ mount: 'secret', connectionsPath: 'airflow', variablesPath: 'airflow', kvVersion: 2 });
    expect([...hcl.matchAll(/^path /gm)]).toHaveLength(1);
    expect(readGlob('secret', 'airflow', 2)).toBe('secret/data/airflow/*');
  });
});

describe('targets', () => {
  it('a dev target is managed; an existing one is not, and carries CA and namespace to env and kwargs', () => {
    expect(manages(devTarget('http://127.0.0.1:8200'))).toBe(true);
    const t = existingTarget('https://vault.example.com:8200', { caFile: '/etc/ca.pem', namespace: '/team-a/' });
    expect(manages(t)).toBe(false);
    expect(t.namespace).toBe('team-a');
    // The writer carries the target's CA and namespace into the env and the kwargs.
    const written = {
      ...t,
      token: 't',
      mount: 'secret',
      connectionsPath: 'c',
      variablesPath: 'v',
      kvVersion: 2 as const,
    };
    const env = Object.fromEntries(envEntries({ ...written, airflowVersion: '3', flavour: 'Vault' }));
    expect(env).toMatchObject({
      VAULT_ADDR: 'https://vault.example.com:8200',
      VAULT_CACERT: '/etc/ca.pem',
      VAULT_NAMESPACE: 'team-a',
    });
    expect(backendKwargs('3', written)).toMatchObject({
      url: 'https://vault.example.com:8200',
      verify: '/etc/ca.pem',
      namespace: 'team-a',
    });
    expect(describeTarget(t)).toContain('not started or managed');
    const dev = { ...written, ...devTarget('http://127.0.0.1:8200'), caFile: undefined, namespace: undefined };
    expect(backendKwargs('3', dev)).toEqual(expect.not.objectContaining({ verify: expect.anything() }));
  });

  it('dev TLS: the cert dir is ours, and a host outside the default names is added as a SAN', () => {
    expect(devTlsArgs('/s/.sandbox/tls', '127.0.0.1')).toEqual(['-dev-tls', '-dev-tls-cert-dir=/s/.sandbox/tls']);
    expect(devTlsArgs('/s/.sandbox/tls', '10.0.0.5')).toEqual([
      '-dev-tls',
      '-dev-tls-cert-dir=/s/.sandbox/tls',
      '-dev-tls-san=10.0.0.5',
    ]);
    expect(devTlsCaFile('/s/.sandbox/tls')).toBe('/s/.sandbox/tls/vault-ca.pem');
  });
});
