/**
 * The emulation reads Airflow's configuration as Airflow's conf does (configuration.py): the
 * environment first, then its _CMD (only for sensitive keys such as backend_kwargs), then
 * airflow.cfg; and the kwargs JSON plus Airflow 3.3's per-key AIRFLOW__SECRETS__BACKEND_KWARG__*.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIni, readSecretsOption } from '../../src/doctor/airflow-cfg.js';
import { parseKwargs } from '../../src/doctor/context.js';

const origin = () => 'the environment';

describe('airflow.cfg and the environment, in Airflow\'s order', () => {
  it('parses sections, both separators, comments and indented continuation lines', () => {
    const ini = parseIni('# top\n[core]\ndags_folder = /d\n[secrets]\nbackend: x.Y\nbackend_kwargs = {"a":\n    1}\n; c\n');
    expect(ini.get('core')?.get('dags_folder')).toBe('/d');
    expect(ini.get('secrets')?.get('backend')).toBe('x.Y');
    expect(ini.get('secrets')?.get('backend_kwargs')).toBe('{"a":\n1}');
  });

  it('the environment beats airflow.cfg; _CMD runs for backend_kwargs; airflow.cfg is read from AIRFLOW_HOME', () => {
    const home = mkdtempSync(join(tmpdir(), 'css-cfg-'));
    writeFileSync(join(home, 'airflow.cfg'), '[secrets]\nbackend = from.Cfg\nbackend_kwargs = {"from": "cfg"}\n');
    const env = new Map([['AIRFLOW_HOME', home]]);
    expect(readSecretsOption('backend', env, origin, '/nowhere')).toMatchObject({ value: 'from.Cfg', name: 'backend' });
    expect(readSecretsOption('backend', new Map([...env, ['AIRFLOW__SECRETS__BACKEND', 'from.Env']]), origin, '/nowhere')?.value).toBe('from.Env');
    const cmd = readSecretsOption('backend_kwargs', new Map([...env, ['AIRFLOW__SECRETS__BACKEND_KWARGS_CMD', 'echo \'{"from": "cmd"}\'']]), origin, '/nowhere');
    expect(cmd).toMatchObject({ value: '{"from": "cmd"}', name: 'AIRFLOW__SECRETS__BACKEND_KWARGS_CMD' });
    // _CMD is honoured only for sensitive keys: backend is not one.
    expect(readSecretsOption('backend', new Map([...env, ['AIRFLOW__SECRETS__BACKEND_CMD', 'echo from.Cmd']]), origin, '/nowhere')?.value).toBe('from.Cfg');
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
