/**
 * A refused or missing credential on a set-up this tool did not make: doctor cannot know the right
 * one, so its fix is the exact manual step with the user's credential in a placeholder's place,
 * put where Airflow reads the refused one (the kwarg, the token_path file, VAULT_TOKEN where it was
 * set), the address of their server. A sandbox the tool made gets `up` instead (it sets its own login up again).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProbeReport } from '../../src/airflow/probe.js';
import { address } from '../../src/doctor/address.js';
import { backendKwargs } from '../../src/doctor/backend-kwargs.js';
import { reachable } from '../../src/doctor/reachable.js';
import { buildDoctorContext } from '../../src/doctor/context.js';
import { token } from '../../src/doctor/token.js';
import type { TokenLookup } from '../../src/doctor/token-lookup.js';
import { VaultError } from '../../src/vault/client.js';
import { freePort } from '../support/sandbox.js';

const URL = 'http://127.0.0.1:8200';

async function handMade(kwargs: Record<string, unknown>, envLines: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'css-credentials-'));
  const env = join(dir, '.env');
  writeFileSync(join(dir, 'secrets-sandbox.yaml'), 'version: 1\nconnections:\n  db: "postgres://u:p@h:5432/d"\n');
  writeFileSync(
    env,
    [
      "AIRFLOW__SECRETS__BACKEND='airflow.providers.hashicorp.secrets.vault.VaultBackend'",
      `AIRFLOW__SECRETS__BACKEND_KWARGS='${JSON.stringify({ url: URL, ...kwargs })}'`,
      ...envLines,
      '',
    ].join('\n'),
  );
  const ctx = await buildDoctorContext(dir, { PATH: '/usr/bin:/bin', HOME: dir }, { airflow: null });
  return { ctx, env };
}

const refused = (source: TokenLookup['source']): TokenLookup => ({
  from: 'the token',
  source,
  token: 'hvs.stale',
  refused: new VaultError('GET', '/v1/auth/token/lookup-self', 'http', '403', 403),
});

// biome-ignore lint/suspicious/noExplicitAny: the check's input is the context plus its needs' facts
const run = (ctx: any) => token.run(ctx);
// biome-ignore lint/suspicious/noExplicitAny: the same for any check
const run2 = (check: { run(ctx: any): Promise<{ status: string; fix?: string }> }, ctx: any) => check.run(ctx);

describe('a refused token on a hand-made set-up', () => {
  it("puts the user's token in the kwarg that held the refused one", async () => {
    const { ctx, env } = await handMade({ token: 'hvs.stale' });
    const r = await run({ ...ctx, tokenLookup: refused({ kind: 'kwarg', key: 'token' }) });
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(
      `in ${env}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "token": "<your Vault token>"  # a token the server at ${URL} accepts`,
    );
  });

  it('writes it into the file token_path names', async () => {
    const { ctx } = await handMade({ token_path: '/home/u/.airflow-token' });
    const r = await run({ ...ctx, tokenLookup: refused({ kind: 'kwarg', key: 'token_path' }) });
    expect(r.fix).toBe(
      `printf '%s\\n' '<your Vault token>' > /home/u/.airflow-token  # a token the server at ${URL} accepts`,
    );
  });

  it('sets VAULT_TOKEN in the .env line that set it', async () => {
    const { ctx, env } = await handMade({}, ["VAULT_TOKEN='hvs.stale'"]);
    const r = await run({ ...ctx, tokenLookup: refused({ kind: 'env', name: 'VAULT_TOKEN' }) });
    expect(r.fix).toBe(`edit ${env}: VAULT_TOKEN='<your Vault token>'  # a token the server at ${URL} accepts`);
  });
});

describe('a refused login on a hand-made set-up', () => {
  const probe = (path: string): ProbeReport =>
    ({
      backends: [{ name: 'VaultBackend' }],
      connections: {},
      variables: {},
      listing: [{ kind: 'connection', path: 'connections', requests: [{ method: 'POST', path, status: 400 }] }],
    }) as unknown as ProbeReport;

  it.each([
    ['approle', { auth_type: 'approle', role_id: 'r', secret_id: 'spent' }, 'secret_id', '<your secret_id>'],
    ['userpass', { auth_type: 'userpass', username: 'airflow', password: 'wrong' }, 'password', '<your password>'],
  ])("%s: the secret half of the login is the user's to give again", async (type, kwargs, key, placeholder) => {
    const { ctx, env } = await handMade(kwargs);
    const r = await run({ ...ctx, probe: probe(`/v1/auth/${type}/login${type === 'userpass' ? '/airflow' : ''}`) });
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(
      `in ${env}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "${key}": "${placeholder}"  # the ${type} login's ${key} the server at ${URL} accepts`,
    );
  });
});

describe('a credential the login needs, missing on a hand-made set-up', () => {
  it('asks for the role_id an AppRole login needs, in the kwargs', async () => {
    const { ctx, env } = await handMade({ auth_type: 'approle', secret_id: 's' });
    const r = await backendKwargs.run(ctx);
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(
      `in ${env}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "role_id": "<your role_id>"  # the approle login needs it`,
    );
  });
});

describe('a server the user must point Airflow at', () => {
  it('puts the address only the user knows where Airflow reads the dead one', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { ctx, env } = await handMade({ url: dead, token: 't' });
    const a = await address.run(ctx);
    const r = await run2(reachable, { ...ctx, ...a.facts });
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(
      `in ${env}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "url": "<your Vault address>"  # the address your Vault server listens on (scheme, host and port)`,
    );
  });
});
