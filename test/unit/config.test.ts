import { describe, expect, it } from 'vitest';
import { parseConfig, renderConfig } from '../../src/config.js';
import { UsageError } from '../../src/errors.js';

async function errorOf(text: string): Promise<string> {
  try {
    await parseConfig(text, 'sb.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('secrets-sandbox.yaml', () => {
  it('round-trips what it renders', async () => {
    const text = await renderConfig({
      server: { address: '127.0.0.1:8200' },
      vault: { mount: 'secret', connections_path: 'connections', variables_path: 'variables', kv_version: 2 },
      airflow: { version: '3', dags_dir: 'dags', example_dag: true, format: 'uri', check: 'auto' },
      connections: { smtp_default: 'smtps://user:host@relay.example.com:465' },
      variables: { env: 'dev' },
    });
    const c = await parseConfig(text, 'sb.yaml');
    expect(c.airflow?.version).toBe('3');
    expect(c.connections).toEqual({ smtp_default: 'smtps://user:host@relay.example.com:465' });
    expect(c.variables).toEqual({ env: 'dev' });
  });

  it('names line and column of a YAML syntax error', async () => {
    expect(await errorOf('vault:\n  mount: [unclosed\n')).toMatch(/^sb\.yaml:\d+:\d+: not valid YAML/);
  });

  it('names line and column of a wrong type', async () => {
    expect(await errorOf('version: 1\nvault:\n  kv_version: "two"\n')).toMatch(/^sb\.yaml:3:3: vault\.kv_version is "two"/);
  });

  it('names an unknown setting', async () => {
    expect(await errorOf('vault:\n  mountt: secret\n')).toMatch(/^sb\.yaml:2:3: vault\.mountt is not a setting/);
  });

  it('refuses a connection given as a mapping', async () => {
    expect(await errorOf('connections:\n  pg:\n    host: x\n')).toMatch(/sb\.yaml:2:3: connections\.pg must be a connection URI string, not a mapping/);
  });

  it('refuses a newer schema version', async () => {
    expect(await errorOf('version: 2\n')).toContain('this tool reads version 1');
  });

  it('tells to quote 1.10, which YAML reads as the number 1.1', async () => {
    expect(await errorOf('airflow:\n  version: 1.10\n')).toContain('quote it');
  });

  it('survives deeply nested input', async () => {
    expect(await errorOf('a: ' + '['.repeat(5000))).toContain('sb.yaml');
  });
});
