/**
 * The settings schema and what derives from it: precedence of the pure merge, the CLI options,
 * --help, the README options table, and config edits that keep the user's comments and order.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { merge, mergeEntries } from '../../src/settings/merge.js';
import { SETTINGS, parseArgsOptions, readmeOptionsTable, type SettingRow } from '../../src/settings/schema.js';
import { helpText } from '../../src/help.js';
import { editConfig, parseConfig } from '../../src/config.js';
import { ROOT } from '../support/env.js';

describe('merge: flags > config > env > defaults', () => {
  it('takes each value from the first layer that has it, and says where from', () => {
    const m = merge(
      { mount: 'flagmount' },
      { mount: 'cfgmount', check: 'vault' },
      { vaultBin: '/env/bao' },
      { mount: 'secret', check: 'auto', address: '127.0.0.1:8200' },
    );
    expect(m.values).toMatchObject({
      mount: 'flagmount',
      check: 'vault',
      vaultBin: '/env/bao',
      address: '127.0.0.1:8200',
    });
    expect(m.source).toMatchObject({ mount: 'flag', check: 'config', vaultBin: 'env', address: 'default' });
  });

  it('config beats env (VAULT_BIN) and flag beats config', () => {
    expect(merge({}, { vaultBin: '/cfg/vault' }, { vaultBin: '/env/bao' }, {}).values.vaultBin).toBe('/cfg/vault');
    expect(
      merge({ vaultBin: '/flag/x' }, { vaultBin: '/cfg/vault' }, { vaultBin: '/env/bao' }, {}).values.vaultBin,
    ).toBe('/flag/x');
  });

  it('--airflow-version auto on the command line beats a version in the config', () => {
    const m = merge({ airflowVersion: 'auto' }, { airflowVersion: '2' }, {}, { airflowVersion: 'auto' });
    expect(m.values.airflowVersion).toBe('auto');
    expect(m.source.airflowVersion).toBe('flag');
  });

  it('false from a flag is a value, not an absence', () => {
    expect(merge({ dag: false }, { dag: true }, {}, { dag: true }).values.dag).toBe(false);
  });

  it('adds connections up by id: the flag replaces the config entry, order of first sight kept', () => {
    const m = merge(
      {
        conn: [
          ['b', 'http://flag-b'],
          ['c', 'http://c'],
        ],
      },
      {
        conn: [
          ['a', 'http://a'],
          ['b', 'http://cfg-b'],
        ],
      },
      {},
      {},
    );
    expect(m.values.conn).toEqual([
      ['a', 'http://a'],
      ['b', 'http://flag-b'],
      ['c', 'http://c'],
    ]);
  });

  // 60-140 ms measured on this machine; the bound only catches a quadratic scan (minutes) on a loaded CI box.
  it('merges 100,000 entries linearly (a Map, not a quadratic scan)', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => [`c${i}`, `http://h${i}`] as const);
    const over = Array.from({ length: 100_000 }, (_, i) => [`c${i * 2}`, `http://o${i}`] as const);
    const t0 = performance.now();
    const out = mergeEntries(big, over);
    const ms = performance.now() - t0;
    expect(out).toHaveLength(150_000);
    expect(out[2]).toEqual(['c2', 'http://o1']);
    expect(ms).toBeLessThan(15_000);
  });
});

describe('derived from the schema', () => {
  const rows = SETTINGS as readonly SettingRow[];

  it('every flag is a parseArgs option, with its short form and --no- form', () => {
    const o = parseArgsOptions();
    for (const r of rows.filter((x) => x.flag)) expect(o[r.flag!], r.flag).toBeDefined();
    expect(o.yes).toEqual({ type: 'boolean', short: 'y' });
    expect(o.conn).toEqual({ type: 'string', multiple: true });
    expect(o['no-dag']).toEqual({ type: 'boolean' });
  });

  it('--help names every flag, with the real defaults', () => {
    const h = helpText();
    for (const flag of [
      '--import',
      '--install-server',
      '--airflow-bin',
      '--with-airflow',
      '--no-dag',
      '--fix',
      '--dry-run',
    ])
      expect(h).toContain(flag);
    expect(h).toMatch(
      /--check LEVEL\s+auto, vault, airflow, dag, run or none \(default: auto: airflow when an Airflow is found, else vault\)/,
    );
    expect(h).toMatch(/--airflow-version V\s+.*\(default: auto: the Airflow found, else 3\)/);
  });

  it('the README options table is the one the schema renders', () => {
    const file = join(ROOT, 'README.md');
    const readme = readFileSync(file, 'utf8');
    const re = /(<!-- options:start[^\n]*-->\n)([\s\S]*?)(<!-- options:end -->)/;
    const m = readme.match(re);
    expect(m, 'README.md has the options markers').not.toBeNull();
    const table = readmeOptionsTable() + '\n';
    if (process.env.UPDATE_README === '1' && m![2] !== table) writeFileSync(file, readme.replace(re, `$1${table}$3`));
    else expect(m![2]).toBe(table);
  });

  it('every config key the schema names is accepted by the parser, and nothing else', async () => {
    const c = await parseConfig(
      'server:\n  address: "[::1]:8311"\n  allow_remote: false\nairflow:\n  bin: /x/airflow\n  version: auto\n',
      'sb.yaml',
    );
    expect(c.server?.address).toBe('[::1]:8311');
    expect(c.airflow?.bin).toBe('/x/airflow');
    expect(c.airflow?.version).toBeUndefined();
    await expect(parseConfig('server:\n  port: 1\n', 'sb.yaml')).rejects.toThrow(
      /server\.port is not a setting; known here: bin, address, allow_remote/,
    );
  });
});

describe('config edits keep what the user wrote', () => {
  const mine = [
    '# my sandbox: do not touch the comments',
    'version: 1',
    'connections:',
    '  # the warehouse',
    '  pg: postgres://u:p@db/app   # staging',
    'vault:',
    '  mount: kv   # team mount',
    '',
  ].join('\n');

  it('changes only the key said, keeping comments and key order', async () => {
    const out = (await editConfig(mine, [
      { path: ['vault', 'mount'], value: 'kv2' },
      { path: ['connections', 'mysql'], value: 'mysql://h/db' },
    ]))!;
    expect(out).toContain('# my sandbox: do not touch the comments');
    expect(out).toContain('# the warehouse');
    expect(out).toContain('pg: postgres://u:p@db/app # staging');
    expect(out).toMatch(/mount: kv2/);
    expect(out.indexOf('connections:')).toBeLessThan(out.indexOf('vault:'));
    expect(out.indexOf('pg:')).toBeLessThan(out.indexOf('mysql:'));
    const c = await parseConfig(out, 'x');
    expect(c.connections).toEqual({ pg: 'postgres://u:p@db/app', mysql: 'mysql://h/db' });
  });

  it('returns null when the file already says it (no rewrite)', async () => {
    expect(await editConfig(mine, [{ path: ['vault', 'mount'], value: 'kv' }])).toBeNull();
  });

  it('keeps a version like 1.10 a string', async () => {
    const out = (await editConfig(null, [{ path: ['airflow', 'version'], value: '1.10' }]))!;
    expect((await parseConfig(out, 'x')).airflow?.version).toBe('1.10');
  });
});

describe('each row parses the same way from a flag, the config or the wizard', () => {
  it('names where the value came from and refuses what the server would', async () => {
    const { PARSERS } = await import('../../src/settings/parse.js');
    expect(PARSERS.address('[::1]:8311', '--address')).toEqual({ host: '::1', port: 8311 });
    expect(() => PARSERS.address('::1:8311', '--address')).toThrow('write it like [::1]:8311');
    expect(() => PARSERS.address('10.0.0.1:8200', 'sb.yaml server.address')).toThrow(
      /^sb\.yaml server\.address '10\.0\.0\.1:8200' is not a loopback address/,
    );
    expect(PARSERS.address('10.0.0.1:8200', '--address', true)).toEqual({ host: '10.0.0.1', port: 8200 });
    expect(PARSERS.mount('/kv/', '--mount')).toBe('kv');
    expect(() => PARSERS.mount('auth/x', '--mount')).toThrow(/keeps for itself/);
    expect(() => PARSERS.mount('secret/team', '--mount')).toThrow(/nested under/);
    expect(PARSERS.connectionsPath('', '--connections-path')).toBe('');
    expect(() => PARSERS.check('always', 'sb.yaml airflow.check')).toThrow(
      "sb.yaml airflow.check 'always' is not one of auto, vault, airflow, dag, run, none",
    );
    expect(() => PARSERS.rootToken('a.b', '--root-token')).toThrow(/contains '\.'/);
  });
});

describe('config edits scale', () => {
  it('writes 100,000 imported connections in one linear pass (a quadratic one takes minutes)', async () => {
    const edits = Array.from({ length: 100_000 }, (_, i) => ({
      path: ['connections', `c${i}`],
      value: `http://h${i}`,
    }));
    const t0 = performance.now();
    const out = (await editConfig('# mine\nconnections:\n  c5: http://old # keep me\n', edits))!;
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(out).toContain('c5: http://h5 # keep me');
    expect(out).toContain('c99999: http://h99999');
    expect(out.startsWith('# mine\n')).toBe(true);
  }, 60_000);
});

describe('the layers come from the schema rows', () => {
  it("flags: every setting the config holds; env: each row's variable; defaults: each row's default", async () => {
    const { flagsLayer, envLayer, defaultsLayer } = await import('../../src/settings.js');
    const rows = SETTINGS as readonly SettingRow[];
    const said = Object.fromEntries(
      rows.filter((r) => r.config && r.type !== 'list').map((r) => [r.key, r.type === 'boolean' ? true : 'x']),
    );
    expect(Object.keys(flagsLayer(said)).sort()).toEqual(Object.keys(said).sort());
    expect(flagsLayer({ force: true, dryRun: true, rootToken: 't' })).toEqual({});
    expect(envLayer({ VAULT_BIN: '/opt/bao', PATH: '/bin' })).toEqual({ vaultBin: '/opt/bao' });
    expect(envLayer({ VAULT_BIN: '' })).toEqual({});
    expect(defaultsLayer({})).toMatchObject({
      address: '127.0.0.1:8200',
      mount: 'secret',
      check: 'auto',
      airflowVersion: 'auto',
      dag: true,
    });
    expect(defaultsLayer({ SECRETS_SANDBOX_DEFAULT_PORT: '18200' }).address).toBe('127.0.0.1:18200');
  });
});
