/**
 * doctor without Airflow on the set-ups issue 20 lists: working set-ups it used to fail (a .env in
 * shell syntax, a list of paths, kwargs Airflow falls back from, `%%` and `$VAR` in settings, per-key
 * kwargs on 2.11), broken ones it used to pass (a login it cannot do, a CRLF .env, the 1.10 class
 * path in a sandbox written for 3), and what its own run does to a use-limited token. Without
 * Airflow doctor fails only on what it proves and otherwise says Airflow would decide.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import { killAndWait, runCli, startManualServer, workspaces } from '../support/sandbox.js';
import {
  checkOf,
  doctorJson,
  editFile,
  editKwargs,
  explaining,
  firstFix,
  follow,
  kwargsOf,
  sourced,
  toolSandbox,
  usesLeft,
  vaultApi,
} from '../support/doctor-cases.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);
const PROVIDER = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';

describe.skipIf(skipReason)('issue 20, without Airflow: working set-ups pass', () => {
  it('VAULT_TOKEN=$(cat file) in .env: bash runs it, as for the user', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    const env = join(dir, '.env');
    const token = String(kwargsOf(env).token);
    const file = join(w.root, 'vault-token');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    editKwargs(env, (kw) => {
      delete kw.token;
    });
    editFile(env, (t) => t.replace(/^VAULT_TOKEN=.*$/m, `VAULT_TOKEN=$(cat ${file})`));
    const d = await doctorJson(w);
    expect(d.code, d.text).toBe(0);
    expect(d.json.decided).toBe(true);
    expect(checkOf(d.json, 'token').detail).toMatch(/^VAULT_TOKEN in .*\.env is accepted/);
    await runCli(w, ['down']);
  });

  it('VAULT_TOKEN="${CSS_TOKEN}" in .env, doctor run from the shell that sourced it', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    const env = join(dir, '.env');
    const token = String(kwargsOf(env).token);
    editKwargs(env, (kw) => {
      delete kw.token;
    });
    editFile(env, (t) => t.replace(/^VAULT_TOKEN=.*$/m, 'VAULT_TOKEN="${CSS_TOKEN}"'));
    const shell = await sourced({ ...w.env, CSS_TOKEN: token }, env);
    const d = await doctorJson(w, [], shell);
    expect(d.code, d.text).toBe(0);
    expect(d.json.decided).toBe(true);
    await runCli(w, ['down']);
  });

  it('connections_path a list, and a global_secrets_path that holds the connection: the provider tries each', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    const env = join(dir, '.env');
    editKwargs(env, (kw) => (kw.connections_path = ['elsewhere', 'connections']));
    expect((await doctorJson(w)).code).toBe(0);
    editKwargs(env, (kw) => {
      kw.connections_path = 'elsewhere';
      kw.global_secrets_path = 'connections';
    });
    const d = await doctorJson(w);
    expect(d.code, d.text).toBe(0);
    expect(d.json.decided).toBe(true);
    await runCli(w, ['down']);
  });

  it('$CSS_TOKEN in the kwargs: Airflow expands $VAR in AIRFLOW__* values', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    const env = join(dir, '.env');
    const token = String(kwargsOf(env).token);
    editKwargs(env, (kw) => (kw.token = '$CSS_TOKEN'));
    const d = await doctorJson(w, [], { CSS_TOKEN: token });
    expect(d.code, d.text).toBe(0);
    expect(d.json.decided).toBe(true);
    await runCli(w, ['down']);
  });

  it('%% in the kwargs in airflow.cfg: configparser reads one %', async () => {
    const w = ws();
    const s = await startManualServer(w, BIN as string);
    const token = 'pct%token-for-doctor';
    expect(
      (await vaultApi(s.url, s.token, 'POST', 'auth/token/create', { id: token, policies: ['root'] })).status,
    ).toBe(200);
    await vaultApi(s.url, s.token, 'POST', 'secret/data/connections/pg', {
      data: { conn_uri: 'postgres://u:p@db:5432/app' },
    });
    const home = join(w.root, 'airflow-home');
    const kw = JSON.stringify({ url: s.url, token, mount_point: 'secret' }).replace(/%/g, '%%');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home);
    writeFileSync(join(home, 'airflow.cfg'), `[secrets]\nbackend = ${PROVIDER}\nbackend_kwargs = ${kw}\n`);
    const d = await doctorJson(w, [], { AIRFLOW_HOME: home });
    expect(d.code, d.text).toBe(0);
    expect(checkOf(d.json, 'token').status).toBe('ok');
    await killAndWait(s.pid);
  });

  it('per-key kwargs on a sandbox written for Airflow 2.11: ignored there (VAULT_ADDR and the JSON answer)', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w, ['--airflow-version', '2']);
    const d = await doctorJson(w, [], { AIRFLOW__SECRETS__BACKEND_KWARG__URL: 'http://127.0.0.1:9' });
    expect(d.code, d.text).toBe(0);
    expect(checkOf(d.json, 'config-source').detail).toMatch(
      /AIRFLOW__SECRETS__BACKEND_KWARG__URL is ignored: Airflow 2/,
    );
    expect(dir).toBeTruthy();
    await runCli(w, ['down']);
  });
});

describe.skipIf(skipReason)('issue 20, without Airflow: broken set-ups never pass', () => {
  it('a per-key token on Airflow 2.11 with no VAULT_TOKEN to fall back to: 2.11 ignores it, so there is no token', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w, ['--airflow-version', '2']);
    const env = join(dir, '.env');
    const token = String(kwargsOf(env).token);
    editKwargs(env, (kw) => {
      delete kw.token;
    });
    editFile(env, (t) => t.replace(/^VAULT_TOKEN=.*\n/m, ''));
    const d = await doctorJson(w, [], { AIRFLOW__SECRETS__BACKEND_KWARG__TOKEN: token });
    expect(d.code, d.text).toBe(1);
    expect(explaining(d.json)?.link).toBe('config source');
    await runCli(w, ['down']);
  });

  it('userpass with a wrong password: a login doctor cannot prove is never counted as a pass', async () => {
    const w = ws();
    const s = await startManualServer(w, BIN as string);
    await vaultApi(s.url, s.token, 'POST', 'sys/auth/userpass', { type: 'userpass' });
    await vaultApi(s.url, s.token, 'POST', 'auth/userpass/users/airflow', { password: 'right', policies: ['default'] });
    const d = await doctorJson(w, [], {
      AIRFLOW__SECRETS__BACKEND: PROVIDER,
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
        url: s.url,
        auth_type: 'userpass',
        username: 'airflow',
        password: 'wrong',
      }),
    });
    // Either doctor logs in and proves the refusal, or it leaves the verdict to Airflow: never a pass.
    expect(d.code === 0 && d.json.decided, d.text).toBe(false);
    if (d.code === 1) expect(explaining(d.json)?.link).toBe('auth');
    else expect(d.json.ask).toMatch(/doctor --airflow 3$/);
    await killAndWait(s.pid);
  });

  it('a .env saved with CRLF line ends: the class path ends with \\r, and the printed fix repairs it', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    const env = join(dir, '.env');
    editFile(env, (t) => t.replace(/\n/g, '\r\n'));
    const d = await doctorJson(w);
    expect(d.code, d.text).toBe(1);
    expect(d.json.decided).toBe(true);
    const c = explaining(d.json);
    expect(c?.id).toBe('backend-class');
    expect(c?.detail).toMatch(/ends with a carriage return/);
    const shell = await sourced(w.env, env);
    const done = await follow(firstFix(d.json) ?? '', shell, w.cwd);
    expect(done.ok, done.output).toBe(true);
    const again = await doctorJson(w, [], done.shell);
    expect(again.code, again.text).toBe(0);
    await runCli(w, ['down']);
  });

  it('the 1.10 class path in a sandbox the tool wrote for Airflow 3, no Airflow found: a failure, not a warning', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    editFile(join(dir, '.env'), (t) =>
      t.replace(
        /^AIRFLOW__SECRETS__BACKEND=.*$/m,
        "AIRFLOW__SECRETS__BACKEND='airflow.contrib.secrets.hashicorp_vault.VaultBackend'",
      ),
    );
    const d = await doctorJson(w);
    expect(d.code, d.text).toBe(1);
    expect(explaining(d.json)).toMatchObject({ id: 'backend-class', link: 'backend class' });
    expect(firstFix(d.json)).toMatch(/^edit .*\.env: AIRFLOW__SECRETS__BACKEND='airflow\.providers\.hashicorp/);
    await runCli(w, ['down']);
  });
});

describe.skipIf(skipReason)('issue 20: doctor leaves no trace on a token limited in uses', () => {
  it('a sandbox: the server token looks it up, so not one use is spent, and the limit is named', async () => {
    const w = ws();
    const { dir, port } = await toolSandbox(w);
    const env = join(dir, '.env');
    const admin = String(kwargsOf(env).token);
    const url = `http://127.0.0.1:${port}`;
    const made = await vaultApi(url, admin, 'POST', 'auth/token/create', { num_uses: 6, policies: ['root'] });
    const limited = String(((made.json?.auth ?? {}) as { client_token?: string }).client_token);
    editKwargs(env, (kw) => (kw.token = limited));
    const d = await doctorJson(w);
    expect(await usesLeft(url, admin, limited)).toBe(6);
    expect(d.json.decided).toBe(false);
    expect(checkOf(d.json, 'token').detail).toMatch(/may be used 6 more time\(s\) \(num_uses\).*doctor spends none/);
    await runCli(w, ['down']);
  });

  it('a server started by hand: one lookup-self, and nothing more', async () => {
    const w = ws();
    const s = await startManualServer(w, BIN as string);
    const made = await vaultApi(s.url, s.token, 'POST', 'auth/token/create', { num_uses: 6, policies: ['root'] });
    const limited = String(((made.json?.auth ?? {}) as { client_token?: string }).client_token);
    const d = await doctorJson(w, [], {
      AIRFLOW__SECRETS__BACKEND: PROVIDER,
      AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ url: s.url, token: limited }),
    });
    expect(await usesLeft(s.url, s.token, limited)).toBe(5);
    expect(d.json.decided).toBe(false);
    expect(checkOf(d.json, 'token').detail).toMatch(
      /may be used 5 more time\(s\).*beyond the one lookup that told it so/,
    );
    await killAndWait(s.pid);
  });
});
