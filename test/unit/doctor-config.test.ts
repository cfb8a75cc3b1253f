/** Without an Airflow to ask, doctor judges the backend class for the major the sandbox is for. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDoctorContext } from '../../src/doctor/context.js';
import { backendClass } from '../../src/doctor/backend-class.js';

describe('the backend class without an Airflow to ask: the major the sandbox is for', () => {
  // Airflow 3 has no airflow.contrib (removed in 3.0); 2.x still imports the 1.10 path through its
  // deprecated-module mapping; the provider path is right for both.
  const CONTRIB = 'airflow.contrib.secrets.hashicorp_vault.VaultBackend';
  const PROVIDER = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
  async function judgeClass(cls: string, sandbox: { config?: string; facts?: Record<string, unknown> }) {
    const dir = mkdtempSync(join(tmpdir(), 'css-intent-'));
    writeFileSync(join(dir, 'secrets-sandbox.yaml'), `version: 1\n${sandbox.config ?? ''}`);
    if (sandbox.facts) {
      mkdirSync(join(dir, '.sandbox'), { mode: 0o700 });
      writeFileSync(join(dir, '.sandbox', 'state.json'), JSON.stringify({ dir, ...sandbox.facts }), { mode: 0o600 });
    }
    writeFileSync(join(dir, '.env'), `AIRFLOW__SECRETS__BACKEND='${cls}'\n`);
    const ctx = await buildDoctorContext(dir, { PATH: '/nonexistent' }, { airflow: null });
    return { ctx, result: await backendClass.run(ctx) };
  }

  it('the config says 3: the 1.10 path fails, naming where the major came from', async () => {
    const { ctx, result } = await judgeClass(CONTRIB, { config: 'airflow:\n  version: "3"\n' });
    expect(ctx.intendedAirflow?.major).toBe('3');
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('airflow.version in');
    expect(result.fix).toContain(PROVIDER);
  });

  it('no word in the config: the Airflow the last run found (state.json) decides; 2.x maps the old path (a warning)', async () => {
    expect((await judgeClass(CONTRIB, { facts: { airflowVersion: '3.3.2' } })).result.status).toBe('fail');
    const two = await judgeClass(CONTRIB, { facts: { airflowVersion: '2.11.2' } });
    expect(two.result.status).toBe('warn');
    expect(two.result.detail).toContain('the Airflow 2.11.2 the last run found');
  });

  it('a sandbox the tool wrote, no word on the major and no Airflow found: its files are for Airflow 3, so the 1.10 path fails', async () => {
    const none = await judgeClass(CONTRIB, { facts: {} });
    expect(none.ctx.intendedAirflow?.major).toBe('3');
    expect(none.result.status).toBe('fail');
    expect(none.result.detail).toContain('the files this sandbox wrote for Airflow 3');
    expect((await judgeClass(PROVIDER, { facts: {} })).result.status).toBe('ok');
    // A config written by hand (no run recorded) says nothing about the major.
    expect((await judgeClass(CONTRIB, {})).ctx.intendedAirflow).toBeUndefined();
  });

  it('no sandbox and nothing says which: Airflow would decide (2 maps the 1.10 path, 3 cannot import it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'css-intent-'));
    const env = { PATH: '/nonexistent', HOME: dir, AIRFLOW__SECRETS__BACKEND: CONTRIB };
    const ctx = await buildDoctorContext(dir, env, { airflow: null });
    expect(ctx.intendedAirflow).toBeUndefined();
    const result = await backendClass.run(ctx);
    expect(result.status).toBe('skip');
    expect(result.detail).toMatch(/Airflow 2 maps it to the provider's, Airflow 3 cannot import it/);
  });
});
