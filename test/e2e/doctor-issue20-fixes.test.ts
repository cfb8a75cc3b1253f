/**
 * Fixes that work when pasted (issue 20): a fix the tool itself would refuse is never printed
 * (`up` keeps an edited .env, so the fix is `up --force`), `--fix` says what it did, and when the
 * token changed doctor says to load the .env again in the user's shell, which it cannot see.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import { runCli, workspaces } from '../support/sandbox.js';
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
  vaultApi,
} from '../support/doctor-cases.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);

describe.skipIf(skipReason)('issue 20: fixes that work when pasted', () => {
  it('--fix on a stopped sandbox: says it started the server and re-seeded, and to reload .env (the token changed)', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    expect((await runCli(w, ['down'])).code).toBe(0);
    const d = await doctorJson(w, ['--fix']);
    expect(d.code, d.text).toBe(0);
    expect(d.json.fixed?.applied).toBe(true);
    expect(d.json.fixed?.said.join('\n')).toMatch(/started the sandbox server \(pid \d+/);
    expect(d.json.fixed?.said.join('\n')).toMatch(/re-seeded from .*: 1 written/);
    expect(d.json.fixed?.reload).toBe('set -a; . ./secrets-sandbox/.env; set +a');
    expect(dir).toBeTruthy();
    await runCli(w, ['down']);
  });

  it('--fix whose repair fails (no server binary left to start): the doctor report still follows, --json keeps its shape, exit 1', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    expect((await runCli(w, ['down'])).code).toBe(0);
    // Gone for real: off PATH, and the binary state.json remembers no longer exists.
    const stateFile = join(dir, '.sandbox', 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(stateFile, JSON.stringify({ ...state, bin: join(w.root, 'gone', 'bao') }));
    const noServer = { PATH: '/usr/bin:/bin' };
    const d = await doctorJson(w, ['--fix'], noServer);
    expect(d.code, d.text).toBe(1);
    expect(d.json.ok).toBe(false);
    expect(Object.keys(d.json), d.text).toEqual(expect.arrayContaining(['ok', 'sandbox', 'verdict', 'checks']));
    expect(d.json.fixed?.applied).toBe(false);
    expect(d.json.fixed?.error?.message).toBeTruthy();
    expect(d.json.fixed?.said.join('\n')).toMatch(/the repair failed/);
    expect(checkOf(d.json, 'reachable').status).toBe('fail');
    // Without --json: the repair's failure on stderr, then the report's rows and summary as always.
    const text = await runCli(w, ['doctor', '--fix'], { env: noServer, timeoutMs: 240_000 });
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/fix: the repair failed/);
    expect(text.stdout).toMatch(/\[✗\] .*the sandbox server is not running/);
    expect(text.stdout).toMatch(/problem\(s\) found/);
  });

  it('an AppRole policy.hcl without the KV v2 data/ path: the fix puts the rule in policy.hcl and reruns, and doing so passes', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w, ['--auth', 'approle']);
    const file = join(dir, 'policy.hcl');
    writeFileSync(
      file,
      'path "secret/connections/*" {\n  capabilities = ["read"]\n}\npath "secret/variables/*" {\n  capabilities = ["read"]\n}\n',
    );
    expect((await runCli(w, ['up'])).code).toBe(1);
    const d = await doctorJson(w);
    expect(d.code, d.text).toBe(1);
    const fix = checkOf(d.json, 'connections').fix ?? '';
    // One command, run as printed: the rule appended to policy.hcl, then the rerun that writes it to Vault.
    expect(fix).toMatch(/^printf .* >> \S+ && .* up \S+ {2}# the rerun writes policy\.hcl to Vault$/);
    expect(fix).toContain(file);
    const done = await follow(fix, w.env, w.cwd);
    expect(done.ok, done.output).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('path "secret/data/connections/*" { capabilities = ["read"] }');
    const again = await doctorJson(w);
    expect(again.code, again.text).toBe(0);
    await runCli(w, ['down']);
  });

  it('a stopped server and a .env the user edited: the fix is up --force (plain up would keep the stale .env), and it works', async () => {
    const w = ws();
    const { dir } = await toolSandbox(w);
    const env = join(dir, '.env');
    // Every value in double quotes: the same settings, another file than the tool wrote.
    editFile(env, (t) =>
      t.replace(/^(\w+)='(.*)'$/gm, (_, k: string, v: string) => `${k}="${v.replace(/(["\\$`])/g, '\\$1')}"`),
    );
    expect((await runCli(w, ['down'])).code).toBe(0);
    const shell = await sourced(w.env, env);
    const d = await doctorJson(w, [], shell);
    expect(d.code, d.text).toBe(1);
    expect(explaining(d.json)?.id).toBe('reachable');
    const fix = firstFix(d.json) ?? '';
    expect(fix).toMatch(/ up \S+ --force {2}# --force: your edited \.env is replaced .*reload \.env in your shell/);
    const done = await follow(fix.replace(/ {2}#.*$/, ''), shell, w.cwd);
    expect(done.ok, done.output).toBe(true);
    const again = await doctorJson(w, [], await sourced(done.shell, env));
    expect(again.code, again.text).toBe(0);
    await runCli(w, ['down']);
  });

  it("no token in the sandbox's files and yesterday's VAULT_TOKEN in the shell: named as the shell's, and the fix puts the live token back", async () => {
    const w = ws();
    const { dir, port } = await toolSandbox(w);
    const env = join(dir, '.env');
    const admin = String(kwargsOf(env).token);
    const made = await vaultApi(`http://127.0.0.1:${port}`, admin, 'POST', 'auth/token/create', { policies: ['root'] });
    const stale = String(((made.json?.auth ?? {}) as { client_token?: string }).client_token);
    await vaultApi(`http://127.0.0.1:${port}`, admin, 'POST', 'auth/token/revoke', { token: stale });
    editKwargs(env, (kw) => {
      delete kw.token;
    });
    editFile(env, (t) => t.replace(/^(VAULT|BAO)_TOKEN=.*\n/gm, ''));
    const shell = { ...(await sourced(w.env, env)), VAULT_TOKEN: stale };
    const d = await doctorJson(w, [], shell);
    expect(d.code, d.text).toBe(1);
    const c = explaining(d.json);
    expect(c).toMatchObject({ id: 'token', link: 'auth' });
    expect(c?.detail).toMatch(/refuses VAULT_TOKEN from your shell.*yesterday's/);
    expect(checkOf(d.json, 'token').fix).toMatch(/ up \S+ --force .*reload \.env in your shell: set -a; \. /);
    const done = await follow((firstFix(d.json) ?? '').replace(/ {2}#.*$/, ''), shell, w.cwd);
    expect(done.ok, done.output).toBe(true);
    // The shell still holds the stale VAULT_TOKEN: the kwargs' token in the rewritten .env wins for Airflow.
    const again = await doctorJson(w, [], { ...(await sourced(done.shell, env)), VAULT_TOKEN: stale });
    expect(again.code, again.text).toBe(0);
    await runCli(w, ['down']);
  });
});
