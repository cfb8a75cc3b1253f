/**
 * The fix for a token the server refuses, in a set-up this tool did not make: doctor cannot know a
 * token the server accepts, so it prints the exact step with the placeholder the user fills in,
 * put where the refused token came from (the kwargs JSON in .env, or VAULT_TOKEN).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDoctorContext } from '../../src/doctor/context.js';
import { YOUR_TOKEN } from '../../src/doctor/fixes.js';
import type { TokenLookup } from '../../src/doctor/token-lookup.js';
import { token } from '../../src/doctor/token.js';

async function handMade(env: string) {
  const dir = mkdtempSync(join(tmpdir(), 'css-token-fix-'));
  writeFileSync(join(dir, 'secrets-sandbox.yaml'), 'version: 1\n');
  writeFileSync(join(dir, '.env'), env, { mode: 0o600 });
  return { dir, ctx: await buildDoctorContext(dir, { PATH: '/nonexistent', HOME: dir }, { airflow: null }) };
}

const refused = (source: TokenLookup['source']): TokenLookup =>
  ({
    from: 'the token',
    source,
    token: 'hvs.revoked',
    refused: { status: 403 },
  }) as TokenLookup;

describe('a refused token in a hand-made set-up', () => {
  it('from the kwargs JSON in .env: the key edit there, with the token placeholder', async () => {
    const { dir, ctx } = await handMade(
      `AIRFLOW__SECRETS__BACKEND='airflow.providers.hashicorp.secrets.vault.VaultBackend'\nAIRFLOW__SECRETS__BACKEND_KWARGS='{"url":"http://127.0.0.1:8200","token":"hvs.revoked"}'\n`,
    );
    const r = await token.run({ ...ctx, tokenLookup: refused({ kind: 'kwarg', key: 'token' }) } as never);
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(
      `in ${join(dir, '.env')}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "token": "${YOUR_TOKEN}"  # a token the server at http://127.0.0.1:8200 accepts`,
    );
  });

  it('from VAULT_TOKEN in .env: that line, with the placeholder', async () => {
    const { dir, ctx } = await handMade(
      `AIRFLOW__SECRETS__BACKEND='airflow.providers.hashicorp.secrets.vault.VaultBackend'\nAIRFLOW__SECRETS__BACKEND_KWARGS='{"url":"http://127.0.0.1:8200"}'\nVAULT_TOKEN='hvs.revoked'\n`,
    );
    const r = await token.run({ ...ctx, tokenLookup: refused({ kind: 'env', name: 'VAULT_TOKEN' }) } as never);
    expect(r.fix).toBe(
      `edit ${join(dir, '.env')}: VAULT_TOKEN='${YOUR_TOKEN}'  # a token the server at http://127.0.0.1:8200 accepts`,
    );
  });
});
