/**
 * The emulation reads Airflow's configuration as Airflow's conf does (configuration.py): the
 * environment first, then its _CMD (only for sensitive keys such as backend_kwargs), then
 * airflow.cfg; and the kwargs JSON plus Airflow 3.3's per-key AIRFLOW__SECRETS__BACKEND_KWARG__*.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIni, readSecretsOption } from '../../src/doctor/airflow-cfg.js';
import { buildDoctorContext, parseKwargs } from '../../src/doctor/context.js';
import { backendClass } from '../../src/doctor/backend-class.js';

const origin = () => 'the environment';

describe("airflow.cfg and the environment, in Airflow's order", () => {
  it('parses sections, both separators, comments and indented continuation lines', () => {
    const ini = parseIni(
      '# top\n[core]\ndags_folder = /d\n[secrets]\nbackend: x.Y\nbackend_kwargs = {"a":\n    1}\n; c\n',
    );
    expect(ini.get('core')?.get('dags_folder')).toBe('/d');
    expect(ini.get('secrets')?.get('backend')).toBe('x.Y');
    expect(ini.get('secrets')?.get('backend_kwargs')).toBe('{"a":\n1}');
  });

  it('the environment beats airflow.cfg; _CMD runs for backend_kwargs; airflow.cfg is read from AIRFLOW_HOME', () => {
    const home = mkdtempSync(join(tmpdir(), 'css-cfg-'));
    writeFileSync(join(home, 'airflow.cfg'), '[secrets]\nbackend = from.Cfg\nbackend_kwargs = {"from": "cfg"}\n');
    const env = new Map([['AIRFLOW_HOME', home]]);
    expect(readSecretsOption('backend', env, origin, '/nowhere')).toMatchObject({ value: 'from.Cfg', name: 'backend' });
    expect(
      readSecretsOption('backend', new Map([...env, ['AIRFLOW__SECRETS__BACKEND', 'from.Env']]), origin, '/nowhere')
        ?.value,
    ).toBe('from.Env');
    const cmd = readSecretsOption(
      'backend_kwargs',
      new Map([...env, ['AIRFLOW__SECRETS__BACKEND_KWARGS_CMD', 'echo \'{"from": "cmd"}\'']]),
      origin,
      '/nowhere',
    );
    expect(cmd).toMatchObject({ value: '{"from": "cmd"}', name: 'AIRFLOW__SECRETS__BACKEND_KWARGS_CMD' });
    // _CMD is honoured only for sensitive keys: backend is not one.
    expect(
      readSecretsOption(
        'backend',
        new Map([...env, ['AIRFLOW__SECRETS__BACKEND_CMD', 'echo from.Cmd']]),
        origin,
        '/nowhere',
      )?.value,
    ).toBe('from.Cfg');
    expect(readSecretsOption('backend', new Map(), origin, '/nowhere')).toBeUndefined();
  });

  it('kwargs: the JSON object, per-key overrides on top (Airflow 3.3), nothing for a JSON that is not an object', () => {
    const env = new Map([['AIRFLOW__SECRETS__BACKEND_KWARG__ROLE_ID', 'r1']]);
    expect(parseKwargs('{"url": "http://x", "role_id": "old"}', env, true)).toEqual({ url: 'http://x', role_id: 'r1' });
    expect(parseKwargs('{"url": "http://x"}', env, false)).toEqual({ url: 'http://x' });
    expect(parseKwargs('[1]', new Map(), true)).toBeUndefined();
    expect(parseKwargs('{url: x}', new Map(), true)).toBeUndefined();
  });
});

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

  it('nothing says which: a warning that names both majors; the provider path passes', async () => {
    const none = await judgeClass(CONTRIB, {});
    expect(none.ctx.intendedAirflow).toBeUndefined();
    expect(none.result.status).toBe('warn');
    expect(none.result.detail).toMatch(/Airflow 2 maps it to the provider, Airflow 3 cannot import it/);
    expect((await judgeClass(PROVIDER, { config: 'airflow:\n  version: "3"\n' })).result.status).toBe('ok');
  });
});
