import { describe, expect, it } from 'vitest';
import { configWouldChange, editConfig, parseConfig } from '../../src/config.js';
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
    const text = (await editConfig(null, [
      { path: ['server', 'address'], value: '[::1]:8311' },
      { path: ['airflow', 'version'], value: '3' },
      { path: ['airflow', 'example_dag'], value: true },
      { path: ['connections', 'smtp_default'], value: 'smtps://user:host@relay.example.com:465' },
      { path: ['variables', 'env'], value: 'dev' },
    ]))!;
    expect(text).toContain('version: "3"');
    const c = await parseConfig(text, 'sb.yaml');
    expect(c.airflow?.version).toBe('3');
    expect(c.connections).toEqual({ smtp_default: 'smtps://user:host@relay.example.com:465' });
    expect(c.variables).toEqual({ env: 'dev' });
    expect(c.server?.address).toBe('[::1]:8311');
    expect(c.airflow?.example_dag).toBe(true);
  });

  it('names line and column of a YAML syntax error', async () => {
    expect(await errorOf('vault:\n  mount: [unclosed\n')).toMatch(/^sb\.yaml:\d+:\d+: not valid YAML/);
  });

  it('names line and column of a wrong type', async () => {
    expect(await errorOf('version: 1\nvault:\n  kv_version: "two"\n')).toMatch(
      /^sb\.yaml:3:3: vault\.kv_version is "two"/,
    );
  });

  it('names an unknown setting', async () => {
    expect(await errorOf('vault:\n  mountt: secret\n')).toMatch(/^sb\.yaml:2:3: vault\.mountt is not a setting/);
  });

  it('refuses a connection mapping without conn_type, naming where', async () => {
    expect(await errorOf('connections:\n  pg:\n    host: x\n')).toMatch(
      /sb\.yaml:2:3: connections\.pg has no conn_type/,
    );
    expect(await errorOf('connections:\n  pg:\n    conn_type: postgres\n    hots: x\n')).toMatch(
      /connections\.pg has an unknown field 'hots'/,
    );
  });

  it('takes a connection as Airflow fields (description, empty login) and keeps them exactly', async () => {
    const cfg = await parseConfig(
      'connections:\n  pg:\n    conn_type: postgres\n    description: main db\n    login: ""\n    port: 5432\n',
      'sb.yaml',
    );
    expect(JSON.parse(String(cfg.connections!.pg))).toEqual({
      conn_type: 'postgres',
      description: 'main db',
      login: '',
      port: 5432,
    });
  });

  it('refuses a newer schema version', async () => {
    expect(await errorOf('version: 2\n')).toContain('this tool reads version 1');
  });

  it('keeps 1.10 as written, which YAML alone reads as the number 1.1', async () => {
    expect((await parseConfig('airflow:\n  version: 1.10\n', 'sb.yaml')).airflow?.version).toBe('1.10');
    expect((await parseConfig('airflow:\n  version: 3\n', 'sb.yaml')).airflow?.version).toBe('3');
  });

  it('survives deeply nested input', async () => {
    expect(await errorOf('a: ' + '['.repeat(5000))).toContain('sb.yaml');
  });

  it('a dry run\'s "would change" agrees with the edit itself, and the text it would write differs exactly then', async () => {
    const base = (await editConfig(null, [
      { path: ['connections', 'a'], value: 'postgres://u:p@h/db' },
      { path: ['airflow', 'version'], value: '3' },
    ]))!;
    const commented = base + '# my note\nvariables:\n  region: eu  # keep\n';
    const cases: [string | null, { path: string[]; value: string | number | boolean }[]][] = [
      [null, []],
      ['', [{ path: ['connections', 'a'], value: 'x://y' }]],
      [base, []],
      [base, [{ path: ['connections', 'a'], value: 'postgres://u:p@h/db' }]], // the same value
      [base, [{ path: ['connections', 'a'], value: 'postgres://u:p@h/other' }]],
      [base, [{ path: ['airflow', 'version'], value: '3' }]],
      [base, [{ path: ['airflow', 'version'], value: '2' }]],
      [commented, [{ path: ['variables', 'region'], value: 'eu' }]],
      [commented, [{ path: ['variables', 'region'], value: 'us' }]],
      [commented, [{ path: ['vault', 'kv_version'], value: 2 }]],
    ];
    for (const [text, edits] of cases) {
      const edited = await editConfig(text, edits);
      expect(await configWouldChange(text, edits), JSON.stringify([text?.slice(-40), edits])).toBe(edited !== null);
      if (edited !== null && text !== null) expect(edited).not.toBe(text);
    }
  });
});
