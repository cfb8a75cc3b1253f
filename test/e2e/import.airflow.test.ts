/**
 * --import with real export files: real Airflow 3 writes `connections export` as JSON, YAML and
 * env, and `variables export` as JSON; the sandbox imports each in one command, reports every
 * entry it skipped or changed, and real Airflow then resolves the imported connections from Vault.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary, scaled } from '../support/env.js';
import { cleanup, freePort, readJson, runCli, runProcess, workspace, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const AIRFLOW_BIN = join(ROOT, '.venvs', 'airflow3', 'bin');
const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW_BIN, 'airflow'));

/** Thirty-odd connections of every shape, as a user's Airflow would hold them. */
function sourceConnections(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < 30; i++) {
    out[`pg_${i}`] = {
      conn_type: 'postgres',
      host: `db${i}.example.com`,
      login: `user${i}`,
      password: `p@ss:w/rd#${i}`,
      schema: `app${i}`,
      port: 5432 + i,
      extra: i % 3 === 0 ? JSON.stringify({ sslmode: 'require' }) : '',
    };
  }
  out.aws_default = {
    conn_type: 'aws',
    extra: JSON.stringify({ region_name: 'eu-west-1', config_kwargs: { retries: { max_attempts: 5 } } }),
  };
  out.http_api = {
    conn_type: 'http',
    host: 'api.example.com',
    login: 'svc',
    password: 'tok en+/=',
    port: 443,
    schema: 'v2',
    extra: JSON.stringify({ timeout: '30' }),
  };
  out.gcp = { conn_type: 'google_cloud_platform', extra: JSON.stringify({ project: 'my-proj' }) };
  out.smtp_default = { conn_type: 'smtps', host: 'relay.example.com', login: 'user', password: 'host', port: 465 };
  out['weird.id-1'] = { conn_type: 'postgres', host: 'shared.example.com', port: 0 }; // port 0: Airflow's own get_uri drops it
  return out;
}

describe.skipIf(skipReason)('--import of real Airflow export files', () => {
  let w: Workspace;
  const exports: Record<string, string> = {};
  const source = sourceConnections();

  beforeAll(async () => {
    w = workspace(BIN);
    w.env.PATH = `${AIRFLOW_BIN}${delimiter}${w.env.PATH}`;
    const env = { ...w.env, AIRFLOW_HOME: join(w.root, 'airflow-home'), AIRFLOW__CORE__LOAD_EXAMPLES: 'False' };
    const airflow = join(AIRFLOW_BIN, 'airflow');
    const files = join(w.root, 'exports');
    mkdirSync(files);
    expect((await runProcess(airflow, ['db', 'migrate'], { env })).code).toBe(0);
    writeFileSync(join(files, 'source.json'), JSON.stringify(source));
    const imp = await runProcess(airflow, ['connections', 'import', join(files, 'source.json')], { env });
    expect(imp.code, imp.stderr).toBe(0);
    writeFileSync(join(files, 'vars-source.json'), JSON.stringify({ env: 'dev', retries: '3', config: { a: 1 } }));
    expect((await runProcess(airflow, ['variables', 'import', join(files, 'vars-source.json')], { env })).code).toBe(0);
    for (const [name, args] of [
      ['conns.json', ['connections', 'export', join(files, 'conns.json')]],
      ['conns.yaml', ['connections', 'export', join(files, 'conns.yaml')]],
      ['conns.env', ['connections', 'export', join(files, 'conns.env')]],
      ['vars.json', ['variables', 'export', join(files, 'vars.json')]],
    ] as const) {
      const r = await runProcess(airflow, [...args], { env });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      exports[name] = join(files, name);
    }
  }, scaled(180_000));

  afterAll(() => {
    expect(cleanup(w)).toEqual([]);
  });

  for (const name of ['conns.json', 'conns.yaml', 'conns.env']) {
    it(
      `imports ${name} in one command, and Airflow resolves every imported connection from Vault`,
      async () => {
        const dir = join(w.cwd, name.replace('.', '-'));
        const r = await runCli(
          w,
          [
            dir,
            '--yes',
            '--json',
            '--import',
            exports[name]!,
            '--import',
            exports['vars.json']!,
            '--address',
            `127.0.0.1:${await freePort()}`,
            '--check',
            'airflow',
          ],
          { timeoutMs: scaled(300_000) },
        );
        expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
        const j = readJson<{
          connections: { id: string; check: string; airflow: string }[];
          variables: { key: string }[];
          imports: { notes: { item: string; action: string; reason: string }[] };
        }>(r.stdout);
        expect(j.connections.map((c) => c.id).sort()).toEqual(Object.keys(source).sort());
        expect(j.connections.every((c) => c.check === 'ok' && c.airflow === 'ok')).toBe(true);
        expect(j.variables.map((v) => v.key).sort()).toEqual(['config', 'env', 'retries']);
        // Real exports are valid Airflow connections: nothing is skipped; what changes is said.
        expect(j.imports.notes.filter((n) => n.action === 'skipped')).toEqual([]);
        // The env export is URIs that Airflow's get_uri wrote, which already lost port 0; the field exports still have it.
        if (!name.endsWith('.env'))
          expect(j.imports.notes.find((n) => n.item === 'weird.id-1')?.reason ?? '').toContain('port 0 is dropped');
        // What Airflow reads from Vault is what the user's Airflow held.
        const cfg = readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8');
        expect(cfg).toContain('pg_7:');
        await runCli(w, ['down', dir]);
      },
      scaled(300_000),
    );
  }

  it('imports AIRFLOW_CONN_* lines and Astro airflow_settings.yaml, with a line for everything not taken', async () => {
    const files = join(w.root, 'handmade');
    mkdirSync(files, { recursive: true });
    writeFileSync(
      join(files, 'airflow.env'),
      [
        '# my local env',
        "AIRFLOW_CONN_MY_PG='postgres://u:p%40ss@db:5432/app'",
        'AIRFLOW_CONN_MY_JSON={"conn_type": "http", "host": "h.example.com", "port": 8080}',
        'AIRFLOW_CONN_BROKEN=mysql://user:pa/ss@host/db',
        'AIRFLOW_VAR_STAGE=dev',
        'AIRFLOW__CORE__LOAD_EXAMPLES=False',
      ].join('\n') + '\n',
    );
    writeFileSync(
      join(files, 'airflow_settings.yaml'),
      [
        'airflow:',
        '  connections:',
        '    - conn_id: astro_pg',
        '      conn_type: postgres',
        '      conn_host: pg.internal',
        '      conn_login: astro',
        '      conn_password: s3cr3t',
        '      conn_port: 5432',
        '      conn_schema: dwh',
        '      conn_extra:',
        '        sslMode: require',
        '    - conn_id: astro_uri',
        '      conn_uri: smtp://a:b@mail.example.com:25',
        '    - conn_id: no_type',
        '      conn_host: x',
        '    - conn_type: http',
        '  pools:',
        '    - pool_name: big',
        '      pool_slot: 5',
        '  variables:',
        '    - variable_name: team',
        '      variable_value: data',
        '    - variable_value: orphan',
      ].join('\n') + '\n',
    );
    const dir = join(w.cwd, 'handmade');
    const r = await runCli(w, [
      dir,
      '--yes',
      '--json',
      '--import',
      join(files, 'airflow.env'),
      '--import',
      join(files, 'airflow_settings.yaml'),
      '--address',
      `127.0.0.1:${await freePort()}`,
      '--check',
      'airflow',
    ]);
    expect(r.code, r.stdout.slice(-2000) + r.stderr).toBe(0);
    const j = readJson<{
      connections: { id: string; airflow: string }[];
      variables: { key: string }[];
      imports: { notes: { item: string; action: string; reason: string }[] };
    }>(r.stdout);
    expect(j.connections.map((c) => c.id).sort()).toEqual(['astro_pg', 'astro_uri', 'my_json', 'my_pg']);
    expect(j.connections.every((c) => c.airflow === 'ok')).toBe(true);
    expect(j.variables.map((v) => v.key).sort()).toEqual(['stage', 'team']);
    const notes = Object.fromEntries(j.imports.notes.map((n) => [n.item, `${n.action}: ${n.reason}`]));
    expect(notes.broken).toMatch(/^skipped: the URI .*password/);
    expect(notes.AIRFLOW__CORE__LOAD_EXAMPLES).toMatch(/^skipped: not a connection/);
    expect(notes.no_type).toBe('skipped: neither conn_type nor conn_uri is given');
    expect(notes['connections[3]']).toBe('skipped: no conn_id');
    expect(notes['1 pool(s)']).toMatch(/^skipped: pools live in the Airflow metastore/);
    expect(notes['variables[1]']).toBe('skipped: no variable_name');
    // The extra key keeps its case (astro-cli folds it: astronomer/astro-cli#1737).
    expect(readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8')).toContain('sslMode');
    await runCli(w, ['down', dir]);
  });

  it('a garbled import file is bad input: exit 2, nothing written', async () => {
    const bad = join(w.root, 'garbled.json');
    writeFileSync(bad, '{"pg": {"conn_type": "postgres"');
    const dir = join(w.cwd, 'garbled');
    const r = await runCli(w, [dir, '--yes', '--import', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--import .*garbled\.json:\d+:\d+: not valid JSON/);
    const missingFile = await runCli(w, [dir, '--yes', '--import', join(w.root, 'nope.yaml')]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain('does not exist');
  });
});
