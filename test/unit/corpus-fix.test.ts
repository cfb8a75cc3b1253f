/**
 * The corpus follows doctor's fixes as a user would (test/support/corpus/fix.ts): key edits applied
 * to the file they name, keeping how the line was written; anything else run as printed by bash in
 * the user's shell, what it exports kept, a command bash or the tool refuses reported as refused.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFix } from '../support/corpus/fix.js';
import { sourceEnvFile } from '../support/corpus/bases.js';

const shell = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'css-corpus-fix-'));
}

describe('following a fix', () => {
  it('edits the kwargs key by key in the .env line that holds them, keeping `export`', async () => {
    const d = dir();
    const env = join(d, '.env');
    writeFileSync(
      env,
      `# head\nexport AIRFLOW__SECRETS__BACKEND_KWARGS="{\\"url\\": \\"http://x:1\\", \\"mountpoint\\": \\"s\\"}"\nVAULT_ADDR='a'\n`,
    );
    const r = await applyFix(
      `in ${env}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "url": "http://127.0.0.1:8200"; remove "mountpoint"`,
      shell,
      d,
    );
    expect(r).toMatchObject({ ok: true, how: 'edit' });
    const text = readFileSync(env, 'utf8');
    expect(text).toMatch(/^export AIRFLOW__SECRETS__BACKEND_KWARGS='/m);
    const { entries } = await sourceEnvFile(d, env);
    expect(JSON.parse(new Map(entries).get('AIRFLOW__SECRETS__BACKEND_KWARGS') ?? '')).toEqual({
      url: 'http://127.0.0.1:8200',
    });
    expect(new Map(entries).get('VAULT_ADDR')).toBe('a');
  });

  it('edits backend_kwargs in airflow.cfg, reading and writing % as %%', async () => {
    const d = dir();
    const cfg = join(d, 'airflow.cfg');
    writeFileSync(cfg, '[core]\nbackend_kwargs = x\n[secrets]\nbackend_kwargs = {"connections_path": "a%%2Fb"}\n');
    const r = await applyFix(`in ${cfg}, [secrets] backend_kwargs: set "mount_point": "kv"`, shell, d);
    expect(r.ok).toBe(true);
    expect(readFileSync(cfg, 'utf8')).toBe(
      '[core]\nbackend_kwargs = x\n[secrets]\nbackend_kwargs = {"connections_path":"a%%2Fb","mount_point":"kv"}\n',
    );
  });

  it('sets one .env line, adding it when missing', async () => {
    const d = dir();
    const env = join(d, '.env');
    writeFileSync(env, "VAULT_ADDR='http://old'\n");
    await applyFix(`edit ${env}: VAULT_ADDR='http://new'`, shell, d);
    await applyFix(`edit ${env}: NO_PROXY='127.0.0.1'`, shell, d);
    expect(readFileSync(env, 'utf8')).toBe("VAULT_ADDR='http://new'\nNO_PROXY='127.0.0.1'\n");
  });

  it('runs anything else as printed and keeps what it exports or unsets', async () => {
    const d = dir();
    const r = await applyFix(
      'export NO_PROXY=127.0.0.1  # bash ignores the comment; unset HTTP_PROXY',
      {
        ...shell,
        HTTP_PROXY: 'http://p',
      },
      d,
    );
    expect(r).toMatchObject({ ok: true, how: 'command' });
    expect(r.shell.NO_PROXY).toBe('127.0.0.1');
    expect(r.shell.HTTP_PROXY).toBe('http://p');
    const r2 = await applyFix('unset HTTP_PROXY', { ...shell, HTTP_PROXY: 'http://p' }, d);
    expect(r2.shell.HTTP_PROXY).toBeUndefined();
  });

  it('reports a command that is not runnable as printed as refused', async () => {
    const d = dir();
    const r = await applyFix('create-secrets-sandbox up ./x (re-seeds from secrets-sandbox.yaml)', shell, d);
    expect(r.ok).toBe(false);
    expect(r.why).toMatch(/exit 2/);
    const r2 = await applyFix('false', shell, d);
    expect(r2).toMatchObject({ ok: false, how: 'command' });
  });

  it("fills a credential placeholder with what the set-up's user knows, and reads past a trailing comment", async () => {
    const d = dir();
    const env = join(d, '.env');
    writeFileSync(
      env,
      `AIRFLOW__SECRETS__BACKEND_KWARGS='{"auth_type": "userpass", "password": "wrong#1"}'\nVAULT_TOKEN='old'\n`,
    );
    const knows = { password: 'pw-7', token: 's.root' };
    const r = await applyFix(
      `in ${env}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "password": "<your password>"  # the password of user airflow`,
      shell,
      d,
      knows,
    );
    expect(r).toMatchObject({ ok: true, how: 'edit' });
    const r2 = await applyFix(
      `edit ${env}: VAULT_TOKEN='<your Vault token>'  # a token the server accepts`,
      shell,
      d,
      knows,
    );
    expect(r2).toMatchObject({ ok: true, how: 'edit' });
    const { entries } = await sourceEnvFile(d, env);
    const kv = Object.fromEntries(entries);
    expect(JSON.parse(kv.AIRFLOW__SECRETS__BACKEND_KWARGS ?? '')).toEqual({ auth_type: 'userpass', password: 'pw-7' });
    expect(kv.VAULT_TOKEN).toBe('s.root');
    const r3 = await applyFix(`edit ${env}: VAULT_TOKEN='<your role_id>'`, shell, d, knows);
    expect(r3).toMatchObject({ ok: false });
    expect(r3.why).toContain('<your role_id>');
  });

  it('keeps a # inside a JSON value of an edit', async () => {
    const d = dir();
    const env = join(d, '.env');
    writeFileSync(env, `AIRFLOW__SECRETS__BACKEND_KWARGS='{}'\n`);
    const r = await applyFix(`in ${env}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "token": "a  # b\\"c"  # why`, shell, d);
    expect(r.ok).toBe(true);
    const { entries } = await sourceEnvFile(d, env);
    expect(JSON.parse(Object.fromEntries(entries).AIRFLOW__SECRETS__BACKEND_KWARGS ?? '')).toEqual({
      token: 'a  # b"c',
    });
  });
});
