import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendClassPath, backendKwargs, secretPath } from '../../src/airflow/backend.js';
import { parseEnvFile, renderDockerEnv, renderShellEnv, renderDag, renderGitignore, type EnvInput } from '../../src/airflow/templates.js';

const target = { url: 'http://127.0.0.1:8200', token: 's.abcdefghijklmnopqrstuvwx', mount: 'secret', connectionsPath: 'connections', variablesPath: 'variables', kvVersion: 2 as const };

describe('VaultBackend per Airflow version', () => {
  it('uses the contrib class on 1.10 and the provider class on 2 and 3', () => {
    expect(backendClassPath('1.10')).toBe('airflow.contrib.secrets.hashicorp_vault.VaultBackend');
    expect(backendClassPath('2')).toBe('airflow.providers.hashicorp.secrets.vault.VaultBackend');
    expect(backendClassPath('3')).toBe('airflow.providers.hashicorp.secrets.vault.VaultBackend');
  });

  it('never gives 1.10 a null path or a key hvac does not know', () => {
    const kw = backendKwargs('1.10', target);
    expect(Object.values(kw)).not.toContain(null);
    expect(kw).not.toHaveProperty('config_path');
    expect(kw).toMatchObject({ url: target.url, token: target.token, kv_engine_version: 2 });
  });

  it.each(['2', '3'] as const)('turns config lookups off on %s and keeps numbers as numbers', (v) => {
    const json = JSON.stringify(backendKwargs(v, target));
    expect(json).toContain('"config_path":null');
    expect(json).toContain('"kv_engine_version":2');
    expect(JSON.parse(json)).toMatchObject({ mount_point: 'secret', connections_path: 'connections', url: target.url, token: target.token });
  });

  it('joins paths as VaultBackend does', () => {
    expect(secretPath('connections', 'smtp_default')).toBe('connections/smtp_default');
    expect(secretPath('', 'smtp_default')).toBe('smtp_default');
  });
});

describe('env files', () => {
  const input: EnvInput = { ...target, airflowVersion: '3', flavour: 'OpenBao', token: "to'ken$HOME`x`" };

  it('reads back in a real shell exactly as written, quotes and $ included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'css-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, renderShellEnv(input));
    const out = execFileSync('sh', ['-c', `set -a; . "${file}"; set +a; printf '%s\\n%s\\n' "$AIRFLOW__SECRETS__BACKEND_KWARGS" "$VAULT_TOKEN"`], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    const [kwargs, token] = out.trimEnd().split('\n');
    expect(JSON.parse(kwargs!)).toMatchObject({ token: input.token, url: target.url });
    expect(token).toBe(input.token);
  });

  it('gives docker --env-file literal values (docker strips no quotes)', () => {
    const lines = renderDockerEnv(input).split('\n').filter((l) => l && !l.startsWith('#'));
    const kv = new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(JSON.parse(kv.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!)).toMatchObject({ token: input.token });
    expect(kv.get('BAO_ADDR')).toBe(target.url);
  });

  it('parses what it writes', () => {
    const env = parseEnvFile(renderShellEnv(input));
    expect(env.get('VAULT_TOKEN')).toBe(input.token);
    expect(env.get('BAO_ADDR')).toBe(target.url);
  });

  it('adds BAO_ADDR only for OpenBao', () => {
    expect(renderShellEnv({ ...input, flavour: 'Vault' })).not.toContain('BAO_ADDR');
  });
});

describe('example DAG', () => {
  it('uses the Airflow 3/2 imports and lists every connection', () => {
    const dag = renderDag({ airflowVersion: '3', connIds: ['smtp_default', 'my-pg'], envFile: './.env' });
    expect(dag).toContain('from airflow.sdk import BaseHook');
    expect(dag).toContain('CONN_IDS = ["smtp_default", "my-pg"]');
    expect(dag).toContain('schedule=None');
    expect(dag).not.toMatch(/\{\{[A-Z_]+\}\}/);
    // The password is only ever tested for presence, never formatted into output.
    expect(dag.match(/conn\.password/g)).toHaveLength(1);
    expect(dag).toContain("'set' if conn.password else 'not set'");
  });

  it('uses 1.10 imports and schedule_interval on 1.10', () => {
    const dag = renderDag({ airflowVersion: '1.10', connIds: ['smtp_default'], envFile: './.env' });
    expect(dag).toContain('from airflow.hooks.base_hook import BaseHook');
    expect(dag).toContain('schedule_interval=None');
    expect(dag).toContain('airflow.contrib.secrets.hashicorp_vault.VaultBackend');
  });
});

describe('.gitignore', () => {
  it('adds what is missing and keeps what the user has', () => {
    const out = renderGitignore('node_modules/\n.env\n');
    expect(out.startsWith('node_modules/\n.env\n')).toBe(true);
    expect(out).toContain('.sandbox/');
    expect(renderGitignore(out)).toBe(out);
  });
});
