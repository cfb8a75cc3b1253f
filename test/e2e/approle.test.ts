/**
 * --auth approle on the sandbox server (issue 11, items 1-2), checked against the real server with
 * plain HTTP calls, not with our client: the role's token reads exactly the two paths, the root
 * token is nowhere in Airflow's env, and the KV v1-style policy mistake is named with its fix.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import { freePort, readJson, runCli, workspaces } from '../support/sandbox.js';
import { parseEnvFile } from '../../src/airflow/backend/index.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);

async function vault(
  url: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/v1/${path}`, {
    method,
    headers: { ...(token ? { 'X-Vault-Token': token } : {}), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/**
 * Removes the role's secret_ids past their TTL, as an admin's `vault write -f auth/approle/tidy/secret-id`
 * does, and waits until `secretId` no longer logs in. Vault accepts a secret_id past its TTL until
 * such a tidy (its own runs about once a minute); OpenBao refuses it at once.
 */
async function tidyExpired(url: string, rootToken: string, roleId: string, secretId: string): Promise<void> {
  expect((await vault(url, 'POST', 'auth/approle/tidy/secret-id', rootToken, {})).status).toBe(202);
  for (let i = 0; i < 100; i++) {
    const login = await vault(url, 'POST', 'auth/approle/login', undefined, { role_id: roleId, secret_id: secretId });
    if (login.status === 400) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the tidied secret_id still logs in');
}

/** role_id and secret_id from a sandbox's kwargs. */
function approleOf(dir: string): { role_id: string; secret_id: string } {
  const env = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'));
  return JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS') ?? '{}');
}

describe.skipIf(skipReason)('--auth approle', () => {
  it('a role whose token reads only the connections and variables; no root token in .env; a rerun changes nothing', async () => {
    const w = ws();
    const port = await freePort();
    const args = [
      'sb',
      '--yes',
      '--auth',
      'approle',
      '--address',
      `127.0.0.1:${port}`,
      '--conn',
      'pg=postgres://u:p@db:5432/app',
      '--var',
      'team=data',
      '--check',
      'vault',
      '--json',
    ];
    const r = await runCli(w, args);
    expect(r.code, r.stderr).toBe(0);
    const out = readJson<{ vault: { auth: string; policy: string; role: string } }>(r.stdout);
    expect(out.vault).toMatchObject({ auth: 'approle', role: 'airflow' });
    const dir = join(w.cwd, 'sb');
    const envText = readFileSync(join(dir, '.env'), 'utf8');
    const env = parseEnvFile(envText);
    const kw = JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!) as Record<string, unknown>;
    expect(kw.auth_type).toBe('approle');
    expect(kw).not.toHaveProperty('token');
    expect(env.has('VAULT_TOKEN')).toBe(false);
    expect(env.has('BAO_TOKEN')).toBe(false);
    // The root token: in the banner file under .sandbox/ (0600), and in no file Airflow reads.
    // The CLI may finish before the server prints its banner (it learns the token from the token file in the server's private HOME).
    const root = readFileSync(join(dir, '.sandbox', 'home', '.vault-token'), 'utf8').trim();
    expect(statSync(join(dir, '.sandbox', 'server.out')).mode & 0o777).toBe(0o600);
    expect(envText).not.toContain(root);
    expect(readFileSync(join(dir, 'docker.env'), 'utf8')).not.toContain(root);
    expect(r.stdout).not.toContain(kw.secret_id as string);

    // The policy file, beside the config, says exactly the two read grants with data/.
    const hcl = readFileSync(join(dir, 'policy.hcl'), 'utf8');
    expect([...hcl.matchAll(/^path "([^"]+)" \{\n {2}capabilities = \["read"\]\n\}/gm)].map((m) => m[1])).toEqual([
      'secret/data/connections/*',
      'secret/data/variables/*',
    ]);

    // Log in as the provider does and try what Airflow may and may not do.
    const url = env.get('VAULT_ADDR')!;
    const login = await vault(url, 'POST', 'auth/approle/login', undefined, {
      role_id: kw.role_id,
      secret_id: kw.secret_id,
    });
    expect(login.status).toBe(200);
    const t = login.json.auth.client_token as string;
    expect(login.json.auth.policies).toEqual(['airflow-secrets-read', 'default']);
    expect((await vault(url, 'GET', 'secret/data/connections/pg', t)).json.data.data).toEqual({
      conn_uri: 'postgres://u:p@db:5432/app',
    });
    expect((await vault(url, 'GET', 'secret/data/variables/team', t)).json.data.data).toEqual({ value: 'data' });
    expect((await vault(url, 'POST', 'secret/data/connections/pg', t, { data: { conn_uri: 'x://y' } })).status).toBe(
      403,
    );
    expect((await vault(url, 'GET', 'secret/metadata/connections?list=true', t)).status).toBe(403);
    await vault(url, 'POST', 'secret/data/other/x', root, { data: { a: 1 } });
    expect((await vault(url, 'GET', 'secret/data/other/x', t)).status).toBe(403);
    // The secret_id lives 24h by default.
    const sid = await vault(url, 'POST', 'auth/approle/role/airflow/secret-id/lookup', root, {
      secret_id: kw.secret_id,
    });
    expect(sid.json.data.secret_id_ttl).toBe(86400);

    const again = await runCli(
      w,
      args.filter((a) => a !== '--json'),
    );
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envText);
    expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
  });

  it('the policy.hcl mistake secret/connections/* is named by the check with the corrected block; fixing the file passes', async () => {
    const w = ws();
    const port = await freePort();
    const args = [
      'sb',
      '--yes',
      '--auth',
      'approle',
      '--secret-id-ttl',
      '10m',
      '--address',
      `127.0.0.1:${port}`,
      '--check',
      'vault',
    ];
    expect((await runCli(w, args)).code).toBe(0);
    const file = join(w.cwd, 'sb', 'policy.hcl');
    const good = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      'path "secret/connections/*" {\n  capabilities = ["read"]\n}\npath "secret/variables/*" {\n  capabilities = ["read"]\n}\n',
    );
    const bad = await runCli(w, args);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/secret\/connections\/\*.*KV v1 form/);
    expect(bad.stderr).toContain('secret/data/connections/smtp_default');
    expect(bad.stderr).toContain('path "secret/data/connections/*" { capabilities = ["read"] }');
    writeFileSync(file, good);
    const fixed = await runCli(w, args);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
  });

  it('doctor names a policy without data/ (with the fixing block) and an expired secret_id (with the rerun that fixes it)', async () => {
    const w = ws();
    const port = await freePort();
    const args = [
      'sb',
      '--yes',
      '--auth',
      'approle',
      '--secret-id-ttl',
      '3s',
      '--address',
      `127.0.0.1:${port}`,
      '--check',
      'vault',
    ];
    expect((await runCli(w, args)).code).toBe(0);
    const dir = join(w.cwd, 'sb');
    const root = readFileSync(join(dir, '.sandbox', 'home', '.vault-token'), 'utf8').trim();
    const url = `http://127.0.0.1:${port}`;
    const healthy = await runCli(w, ['doctor', 'sb']);
    expect(healthy.code, healthy.stdout).toBe(0);
    expect(healthy.stdout).toMatch(/approle login works \(policies: airflow-secrets-read, default\)/);

    // The team's usual mistake, written straight to the server as an admin would.
    const bad =
      'path "secret/connections/*" {\n  capabilities = ["read"]\n}\npath "secret/variables/*" {\n  capabilities = ["read"]\n}\n';
    expect((await vault(url, 'POST', 'sys/policies/acl/airflow-secrets-read', root, { policy: bad })).status).toBe(204);
    const d = await runCli(w, ['doctor', 'sb']);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(
      /\[✗\] Connections in Vault: Airflow's token may not read secret\/connections\/smtp_default .*grants "secret\/connections\/\*", but on KV v2 the API path is secret\/data\/connections/,
    );
    expect(d.stdout).toContain('path "secret/data/connections/*" { capabilities = ["read"] }');
    // policy.hcl still grants the read: the rerun alone writes it back (a login's .env may not write policies).
    expect(d.stdout).toMatch(/Fix: .* up \S*sb {2}# writes policy\.hcl, which grants the read, back to Vault/);

    // Past its TTL (and tidied) the secret_id no longer logs in: doctor says so; the rerun makes a new one and passes.
    await new Promise((r) => setTimeout(r, 4000));
    const creds = approleOf(dir);
    await tidyExpired(url, root, creds.role_id, creds.secret_id);
    const expired = await runCli(w, ['doctor', 'sb']);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toMatch(/Vault refuses the approle login at auth\/approle \(HTTP 400\): .*expired/);
    expect(expired.stdout).toMatch(/Fix: .* up \S*sb .*reload \.env/);
    const again = await runCli(w, args);
    expect(again.code, again.stderr).toBe(0);
    expect((await runCli(w, ['doctor', 'sb'])).code).toBe(0);
    expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
  });

  it('a rerun replaces a secret_id past its TTL even while the server still accepts it (Vault, until its tidy)', async () => {
    const w = ws();
    const port = await freePort();
    const args = ['sb', '--yes', '--auth', 'approle', '--secret-id-ttl', '2s', '--address', `127.0.0.1:${port}`];
    expect((await runCli(w, [...args, '--check', 'vault'])).code).toBe(0);
    const dir = join(w.cwd, 'sb');
    const first = approleOf(dir);
    await new Promise((r) => setTimeout(r, 3000));
    // Without --secret-id-ttl: a rerun that would keep a secret_id still within its TTL.
    const again = await runCli(w, ['sb', '--yes', '--check', 'vault']);
    expect(again.code, again.stderr).toBe(0);
    const second = approleOf(dir);
    expect(second.role_id).toBe(first.role_id);
    expect(second.secret_id).not.toBe(first.secret_id);
    // The new one is the one that logs in once the server has tidied the old one away.
    const url = `http://127.0.0.1:${port}`;
    const root = readFileSync(join(dir, '.sandbox', 'home', '.vault-token'), 'utf8').trim();
    await tidyExpired(url, root, first.role_id, first.secret_id);
    const login = await vault(url, 'POST', 'auth/approle/login', undefined, {
      role_id: second.role_id,
      secret_id: second.secret_id,
    });
    expect(login.status).toBe(200);
    expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
  });

  it('--secret-id-ttl that is not a duration is bad input: exit 2, nothing started', async () => {
    const w = ws();
    const r = await runCli(w, ['sb', '--yes', '--auth', 'approle', '--secret-id-ttl', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--secret-id-ttl 'soon' is not a duration/);
  });
});
