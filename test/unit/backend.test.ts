import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  airflowFeatures,
  backendKwargs,
  noProxyEntries,
  parseEnvFile,
  renderDockerEnv,
  renderShellEnv,
  secretPath,
  type EnvInput,
} from '../../src/airflow/backend/index.js';
import { renderDag, renderGitignore } from '../../src/airflow/templates.js';
import { UsageError } from '../../src/errors.js';
import { GITIGNORE_ENTRIES } from '../../src/sandbox/index.js';

const target = {
  url: 'http://127.0.0.1:8200',
  token: 's.abcdefghijklmnopqrstuvwx',
  mount: 'secret',
  connectionsPath: 'connections',
  variablesPath: 'variables',
  kvVersion: 2 as const,
};

describe('VaultBackend per Airflow version', () => {
  it('uses the contrib class on 1.10 and the provider class on 2 and 3', () => {
    expect(airflowFeatures('1.10').classPath).toBe('airflow.contrib.secrets.hashicorp_vault.VaultBackend');
    expect(airflowFeatures('2').classPath).toBe('airflow.providers.hashicorp.secrets.vault.VaultBackend');
    expect(airflowFeatures('3.3.2').classPath).toBe('airflow.providers.hashicorp.secrets.vault.VaultBackend');
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
    expect(JSON.parse(json)).toMatchObject({
      mount_point: 'secret',
      connections_path: 'connections',
      url: target.url,
      token: target.token,
    });
  });

  it('joins paths as VaultBackend does', () => {
    expect(secretPath('connections', 'smtp_default')).toBe('connections/smtp_default');
    expect(secretPath('', 'smtp_default')).toBe('smtp_default');
  });
});

describe('env files', () => {
  // One token with quotes and backslashes, one with shell expansion characters: every value has a
  // form bash reads literally, but not one form for both (see dotenvQuote).
  const quoted: EnvInput = { ...target, airflowVersion: '3', flavour: 'OpenBao', token: `to'ken"\\x` };
  const dollar: EnvInput = { ...target, airflowVersion: '3', flavour: 'OpenBao', token: 'tok$HOME`x`' };
  const input = quoted;

  it.each([quoted, dollar])('reads back in a real shell exactly as written ($token)', (inp) => {
    const dir = mkdtempSync(join(tmpdir(), 'css-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, renderShellEnv(inp));
    const out = execFileSync(
      'sh',
      ['-c', `set -a; . "${file}"; set +a; printf '%s\\n%s\\n' "$AIRFLOW__SECRETS__BACKEND_KWARGS" "$VAULT_TOKEN"`],
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nowhere' } },
    );
    const [kwargs, token] = out.trimEnd().split('\n');
    expect(JSON.parse(kwargs!)).toMatchObject({ token: inp.token, url: target.url });
    expect(token).toBe(inp.token);
  });

  it('refuses a value no quoting keeps intact in bash, compose and python-dotenv alike', () => {
    expect(() => renderShellEnv({ ...input, dagsFolder: "/home/o'neil/$dags" })).toThrow(UsageError);
  });

  it('gives docker --env-file literal values (docker strips no quotes)', () => {
    const lines = renderDockerEnv(input)
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    const kv = new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(JSON.parse(kv.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!)).toMatchObject({ token: input.token });
    expect(kv.get('BAO_ADDR')).toBe(target.url);
  });

  it('refuses a line break in docker.env, naming the value', () => {
    expect(() => renderDockerEnv({ ...input, dagsFolder: '/tmp/a\nVAULT_ADDR=http://evil' })).toThrow(
      /AIRFLOW__CORE__DAGS_FOLDER.*line break/,
    );
  });

  it.each([quoted, dollar])('parses what it writes ($token)', (inp) => {
    const env = parseEnvFile(renderShellEnv(inp));
    expect(env.get('VAULT_TOKEN')).toBe(inp.token);
    expect(env.get('BAO_ADDR')).toBe(target.url);
  });

  it("makes proxies skip the sandbox: NO_PROXY and no_proxy name its host and keep the user's entries", () => {
    const v6 = { ...input, url: 'http://[::1]:8200' };
    const env = parseEnvFile(
      renderShellEnv({
        ...v6,
        noProxy: noProxyEntries(v6.url, 'NO_PROXY=corp.example,.internal\n', { no_proxy: 'shell.example' }),
      }),
    );
    expect(env.get('NO_PROXY')!.split(',')).toEqual([
      '::1',
      '127.0.0.1',
      'localhost',
      'corp.example',
      '.internal',
      'shell.example',
    ]);
    expect(env.get('no_proxy')).toBe(env.get('NO_PROXY'));
  });

  it('adds BAO_ADDR only for OpenBao', () => {
    expect(renderShellEnv({ ...input, flavour: 'Vault' })).not.toContain('BAO_ADDR');
  });
});

describe('example DAG', () => {
  it('uses the Airflow 3/2 imports and lists every connection', () => {
    const dag = renderDag({ airflowVersion: '3', connIds: ['smtp_default', 'my-pg'], envFile: './.env' });
    expect(dag).toContain('from airflow.sdk import BaseHook');
    expect(dag).toContain('TASK_IDS = {"smtp_default": "check_smtp_default", "my-pg": "check_my-pg"}');
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
    const out = renderGitignore('node_modules/\n.env\n', GITIGNORE_ENTRIES);
    expect(out.startsWith('node_modules/\n.env\n')).toBe(true);
    expect(out).toContain('.sandbox/');
    expect(renderGitignore(out, GITIGNORE_ENTRIES)).toBe(out);
  });
});
