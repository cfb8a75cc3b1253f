/**
 * --vault-url (issue 11, item 4) against a second real server started here in non-dev mode
 * (raft storage, initialised and unsealed by the test, TLS with a CA the test made): nothing is
 * started, mounted or written there without --seed; what is there is checked; status, down and up
 * leave it alone. Before/after snapshots of the server are taken over the HTTP API, not our client.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, missing, ROOT, serverBinary, scaled, VENV_PYTHON } from '../support/env.js';
import { processesUnder, runCli, runProcess, workspaces } from '../support/sandbox.js';
import { startExistingVault, type ExistingVault } from '../support/existing-vault.js';
import { isAlive } from '../../src/vault/server.js';
import { parseEnvFile } from '../../src/airflow/backend/index.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);

describe.skipIf(skipReason)('an existing Vault (--vault-url)', () => {
  let v: ExistingVault;
  beforeAll(async () => {
    v = await startExistingVault(BIN!);
    expect(
      (
        await v.api(
          'POST',
          'secret/data/connections/team_pg',
          { data: { conn_uri: 'postgres://svc:s3cret@db.internal:5432/dw' } },
          v.rootToken,
        )
      ).status,
    ).toBe(200);
    expect(
      (await v.api('POST', 'secret/data/variables/region', { data: { value: 'eu-west-1' } }, v.rootToken)).status,
    ).toBe(200);
  }, scaled(120_000));
  afterAll(async () => v?.stop());

  /** Everything a write by the tool would change: mounts, auth methods, policies, and the secrets with their versions. */
  async function snapshot(ns?: string): Promise<string> {
    const get = async (p: string) => (await v.api('GET', p, undefined, v.rootToken, ns)).json;
    const meta = async (p: string) => {
      const keys = ((await v.api('GET', `secret/metadata/${p}?list=true`, undefined, v.rootToken, ns)).json?.data
        ?.keys ?? []) as string[];
      return Promise.all(keys.map(async (k) => [k, (await get(`secret/metadata/${p}/${k}`))?.data?.current_version]));
    };
    return JSON.stringify({
      mounts: Object.keys((await get('sys/mounts')).data ?? {}).sort(),
      auth: Object.keys((await get('sys/auth')).data ?? {}).sort(),
      policies: (await get('sys/policies/acl?list=true')).data?.keys ?? [],
      conns: await meta('connections'),
      vars: await meta('variables'),
    });
  }

  it('without --seed: checks what is there, writes only env, DAG and policy; the server is untouched; status/down/up leave it alone', async () => {
    const w = ws({ VAULT_TOKEN: v.rootToken });
    const before = await snapshot();
    const r = await runCli(w, ['sb', '--yes', '--vault-url', v.url, '--ca-cert', v.caFile, '--check', 'vault']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`using the existing Vault at ${v.url}`);
    expect(r.stdout).toMatch(/Nothing was written there \(no --seed\); 1 connection\(s\) found and checked/);
    expect(r.stdout).not.toContain('smtp_default');
    expect(await snapshot()).toBe(before);
    // No process was started for this sandbox.
    expect(processesUnder(w.root)).toEqual([]);

    const dir = join(w.cwd, 'sb');
    const env = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'));
    expect(env.get('VAULT_ADDR')).toBe(v.url);
    expect(env.get('VAULT_CACERT')).toBe(v.caFile);
    const kw = JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!);
    expect(kw).toMatchObject({ url: v.url, verify: v.caFile, token: v.rootToken, mount_point: 'secret' });
    expect(readFileSync(join(dir, 'policy.hcl'), 'utf8')).toContain('path "secret/data/connections/*"');
    expect(existsSync(join(dir, 'dags', 'example_secrets_dag.py'))).toBe(true);
    const cfg = readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8');
    expect(cfg).toContain(`url: ${v.url}`);
    expect(cfg).not.toContain(v.rootToken);

    const st = await runCli(w, ['status', 'sb']);
    expect(st.code, st.stdout).toBe(0);
    expect(st.stdout).toMatch(
      /answering: this sandbox uses an existing Vault at .*: this tool did not start it and does not stop, restart or manage it/,
    );
    const down = await runCli(w, ['down', 'sb']);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^nothing to stop: this sandbox uses an existing Vault/);
    expect(isAlive(v.pid)).toBe(true);
    const up = await runCli(w, ['up', 'sb']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain('this tool did not start it and will not stop it');
    expect(await snapshot()).toBe(before);
    expect(processesUnder(w.root)).toEqual([]);
  });

  it('--seed --yes writes exactly the given secrets there, and the check reads them back', async () => {
    const w = ws({ VAULT_TOKEN: v.rootToken });
    const r = await runCli(w, [
      'sb',
      '--yes',
      '--seed',
      '--vault-url',
      v.url,
      '--ca-cert',
      v.caFile,
      '--conn',
      'new_api=https://u:p@api.example.com:443',
      '--check',
      'vault',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const got = await v.api('GET', 'secret/data/connections/new_api', undefined, v.rootToken);
    expect(got.json.data.data).toEqual({ conn_uri: 'https://u:p@api.example.com:443' });
    // Not the example connection: only what was asked.
    expect((await v.api('GET', 'secret/data/connections/smtp_default', undefined, v.rootToken)).status).toBe(404);
  });

  /** Whether the server has namespaces: Vault's Community Edition says enterprise: false in sys/health and has none. */
  async function hasNamespaces(): Promise<boolean> {
    return (await v.api('GET', 'sys/health')).json?.enterprise !== false;
  }

  it('--auth approle: the role from VAULT_ROLE_ID/VAULT_SECRET_ID, in a namespace; the wrong namespace is named', async (ctx) => {
    if (!(await hasNamespaces()))
      ctx.skip('this server has no namespaces (Vault Community Edition); the next test covers it');
    const ns = 'team-a';
    expect((await v.api('POST', `sys/namespaces/${ns}`, {}, v.rootToken)).status).toBe(200);
    const inNs = (m: string, p: string, b?: unknown) => v.api(m, p, b, v.rootToken, ns);
    await inNs('POST', 'sys/mounts/teamkv', { type: 'kv', options: { version: '2' } });
    await v.kvReady('teamkv', ns);
    expect(
      (await inNs('POST', 'teamkv/data/airflow/connections/wh', { data: { conn_uri: 'snowflake://u:p@acct/db' } }))
        .status,
    ).toBe(200);
    await inNs('POST', 'sys/auth/approle', { type: 'approle' });
    await inNs('POST', 'sys/policies/acl/airflow', {
      policy: 'path "teamkv/data/airflow/*" {\n  capabilities = ["read"]\n}\n',
    });
    await inNs('POST', 'auth/approle/role/airflow', { token_policies: ['airflow'] });
    const roleId = (await inNs('GET', 'auth/approle/role/airflow/role-id')).json.data.role_id;
    const secretId = (await inNs('POST', 'auth/approle/role/airflow/secret-id', {})).json.data.secret_id;
    const before = await snapshot(ns);

    const w = ws({ VAULT_TOKEN: v.rootToken, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId });
    const args = [
      'sb',
      '--yes',
      '--vault-url',
      v.url,
      '--ca-cert',
      v.caFile,
      '--auth',
      'approle',
      '--mount',
      'teamkv',
      '--connections-path',
      'airflow/connections',
      '--variables-path',
      'airflow/variables',
      '--check',
      'vault',
    ];
    const r = await runCli(w, [...args, '--namespace', ns]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('1 connection(s) found and checked');
    const env = parseEnvFile(readFileSync(join(w.cwd, 'sb', '.env'), 'utf8'));
    expect(JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!)).toMatchObject({
      auth_type: 'approle',
      role_id: roleId,
      secret_id: secretId,
      namespace: ns,
      verify: v.caFile,
    });
    expect(env.has('VAULT_TOKEN')).toBe(false);
    expect(env.get('VAULT_NAMESPACE')).toBe(ns);
    expect(await snapshot(ns)).toBe(before);

    // The namespace left out: the mount is not there at the root, and the tool does not make it.
    const w2 = ws({ VAULT_TOKEN: v.rootToken, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId });
    const bad = await runCli(w2, args);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nothing is mounted at 'teamkv\/'/);
    expect(bad.stderr).toMatch(/does not mount on an existing Vault/);
    expect((await v.api('GET', 'sys/mounts', undefined, v.rootToken)).json.data).not.toHaveProperty('teamkv/');
  });

  it('a server without namespaces (Vault Community Edition): --namespace is refused before anything is read or written there', async (ctx) => {
    if (await hasNamespaces())
      ctx.skip('this server has namespaces (OpenBao, Vault Enterprise); the test before covers it');
    // What the refusal is about: the server ignores the namespace and answers from the root one.
    const inNs = await v.api('GET', 'secret/data/connections/team_pg', undefined, v.rootToken, 'team-a');
    expect(inNs.status).toBe(200);
    const w = ws({ VAULT_TOKEN: v.rootToken });
    const before = await snapshot();
    const r = await runCli(w, [
      'sb',
      '--yes',
      '--seed',
      '--vault-url',
      v.url,
      '--ca-cert',
      v.caFile,
      '--namespace',
      'team-a',
      '--check',
      'vault',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${v.url} is HashiCorp Vault Community Edition`);
    expect(r.stderr).toContain("it would ignore namespace 'team-a'");
    expect(r.stderr).toMatch(/fix: drop --namespace/);
    expect(existsSync(join(w.cwd, 'sb', '.env'))).toBe(false);
    expect(await snapshot()).toBe(before);
  });

  it('a CA that did not sign its certificate: exit 1 naming the CA file, nothing written there', async () => {
    const w = ws({ VAULT_TOKEN: v.rootToken });
    const other = join(w.root, 'other-ca.pem');
    const { execFileSync } = await import('node:child_process');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(w.root, 'k.pem'),
        '-out',
        other,
        '-days',
        '1',
        '-subj',
        '/CN=other',
      ],
      { stdio: 'pipe' },
    );
    const r = await runCli(w, ['sb', '--yes', '--vault-url', v.url, '--ca-cert', other, '--check', 'vault']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`not signed by the CA in ${other}`);
  });

  it('the token never comes from a flag value; none at all is bad input naming VAULT_TOKEN', async () => {
    const w = ws();
    const flag = await runCli(w, ['sb', '--yes', '--vault-url', v.url, '--token', v.rootToken]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).not.toContain(v.rootToken);
    const none = await runCli(w, ['sb', '--yes', '--vault-url', v.url, '--ca-cert', v.caFile]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no token for https:\/\/127\.0\.0\.1:\d+: export VAULT_TOKEN/);
    expect(existsSync(join(w.cwd, 'sb'))).toBe(false);
    const stray = await runCli(w, ['sb', '--yes', '--namespace', 'x']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--namespace applies only to an existing Vault/);
  });

  it('on a terminal without --yes, the token is asked for and not echoed', async () => {
    const w = ws();
    const ENTER = '\r';
    const r = await runProcess(VENV_PYTHON, [join(ROOT, 'test', 'support', 'pty_drive.py')], {
      input: JSON.stringify({
        cmd: [
          process.execPath,
          CLI,
          'sb',
          '--vault-url',
          v.url,
          '--ca-cert',
          v.caFile,
          '--mount',
          'secret',
          '--connections-path',
          'connections',
          '--variables-path',
          'variables',
          '--airflow-version',
          '3',
          '--check',
          'vault',
        ],
        cwd: w.cwd,
        env: { ...w.env, TERM: 'xterm-256color', COLUMNS: '160', LINES: '50' },
        steps: [
          ['Connection ID=URI', ENTER],
          ['Variable KEY=VALUE', ENTER],
          ['Write the example DAG', ENTER],
          ['Token for https://127\\.0\\.0\\.1:\\d+ \\(not echoed\\)', `${v.rootToken}${ENTER}`],
          ['Go ahead\\?', ENTER],
          ['Sandbox ready', ''],
        ],
        timeout: 120,
      }),
      timeoutMs: 150_000,
    });
    const out = JSON.parse(r.stdout) as { code: number; transcript: string; stuck_at: number | null };
    expect(out.stuck_at, out.transcript.slice(-2000)).toBeNull();
    expect(out.code, out.transcript.slice(-2000)).toBe(0);
    expect(out.transcript).not.toContain(v.rootToken);
    expect(out.transcript).not.toMatch(/Listen address|Root token/);
  });

  it('a token file: Airflow gets token_path, not a copy of the token', async () => {
    const w = ws();
    const tf = join(w.root, 'vault-token');
    writeFileSync(tf, `${v.rootToken}\n`, { mode: 0o600 });
    const r = await runCli(w, [
      'sb',
      '--yes',
      '--vault-url',
      v.url,
      '--ca-cert',
      v.caFile,
      '--token-file',
      tf,
      '--check',
      'vault',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const envText = readFileSync(join(w.cwd, 'sb', '.env'), 'utf8');
    expect(JSON.parse(parseEnvFile(envText).get('AIRFLOW__SECRETS__BACKEND_KWARGS')!)).toMatchObject({
      token_path: tf,
    });
    expect(envText).not.toContain(v.rootToken);
  });
});
