/**
 * Values, not presence: the URI traps doctor names in a seeded or stored URI, the commands that
 * store what was meant (run here through the real python3, and the result read back with Python's
 * own urlsplit/unquote, as Airflow reads it), and the rule that an id a later backend answers after
 * Vault's backend raised is a failure of the set-up. Expected values are the passwords the user
 * meant, written out, never computed by the code under test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackendAnswer, ProbeReport } from '../../src/airflow/probe.js';
import { exactFromSecret } from '../../src/airflow/spec.js';
import { airflowCause } from '../../src/doctor/cause.js';
import { buildDoctorContext } from '../../src/doctor/context.js';
import { firstFailure } from '../../src/doctor/evidence.js';
import { YOUR_CONN_URI, YOUR_VAR_VALUE } from '../../src/doctor/fixes.js';
import {
  fieldNamesFix,
  reencodable,
  reencodeFix,
  reseedFix,
  restoreFix,
  storeMeantFix,
  uriTrap,
} from '../../src/doctor/values.js';
import { summarise } from '../../src/doctor/verdict.js';

const python = spawnSync('python3', ['-c', 'print(1)']).status === 0;

function pyOf(cmd: string | undefined): string {
  const m = /python3 -c '([^']*)'/.exec(cmd ?? '');
  if (!m?.[1]) throw new Error(`no python3 -c '...' in ${cmd}`);
  return m[1];
}

function runPy(code: string, stdin: string): string {
  const r = spawnSync('python3', ['-c', code], { input: stdin, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** What Airflow's Connection takes from a URI's userinfo: urlsplit, then unquote (both majors). */
function airflowReads(uri: string): { login: string; password: string; host: string; port: string } {
  const out = runPy(
    'import json,sys,urllib.parse as p; u=p.urlsplit(sys.stdin.read()); print(json.dumps({"login": p.unquote(u.username or ""), "password": p.unquote(u.password or ""), "host": u.hostname or "", "port": str(u.port)}))',
    uri,
  );
  return JSON.parse(out) as { login: string; password: string; host: string; port: string };
}

async function sandboxCtx(withRun: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'css-values-'));
  writeFileSync(join(dir, 'secrets-sandbox.yaml'), 'version: 1\nconnections:\n  db: "postgres://u:pa/ss@h:5432/d"\n');
  if (withRun) {
    mkdirSync(join(dir, '.sandbox'), { mode: 0o700 });
    writeFileSync(
      join(dir, '.sandbox', 'state.json'),
      JSON.stringify({ dir, seeded: { connections: ['db'], variables: [] } }),
      { mode: 0o600 },
    );
  }
  const ctx = await buildDoctorContext(dir, { PATH: '/nonexistent', HOME: dir }, { airflow: null });
  return { ...ctx, mount: 'secret', connectionsPath: 'connections' };
}

describe('URI traps in the user or password', () => {
  it.each([
    ['a raw #', 'postgres://user:1234#x@db.example.com:5432/app', /raw \/, \? or #/],
    ['a raw /', 'postgres://user:pa/ss@db.example.com:5432/app', /raw \/, \? or #/],
    [
      'a %41 (an escaped letter: the % is the password own)',
      'postgres://user:p%41ss@db.example.com:5432/app',
      /%41.*decodes to 'A'/,
    ],
  ])('%s is named', (_what, uri, said) => {
    expect(uriTrap(uri, '3')).toMatch(said);
  });

  it.each([
    'postgres://user:pa%2Fss@db.example.com:5432/app',
    'postgres://user:p%25ss@db.example.com:5432/app',
    'postgres://us%40er:p%23ss@db.example.com:5432/app',
    'postgres://user:pass@db.example.com:5432/app',
  ])('a URI written as meant is no trap: %s', (uri) => {
    expect(uriTrap(uri, '3')).toBeUndefined();
  });
});

describe('what the re-encoding is for (a seeded URI is checked for these only)', () => {
  it('a trap in the user or password is; a #fragment after the host is not (Airflow drops it, and that is what the URI says)', () => {
    expect(reencodable('postgres://user:1234#x@db.example.com:5432/app')).toBe(true);
    expect(reencodable('postgres://user:p%41ss@db.example.com:5432/app')).toBe(true);
    expect(reencodable('http://host/db#frag')).toBe(false);
    expect(reencodable('postgres://user:pa%2Fss@db.example.com:5432/app')).toBe(false);
  });
});

describe.skipIf(!python)('the re-encoding doctor prints (real python3)', () => {
  it.each([
    ['postgres://user:1234#x16@db.example.com:465/app', '1234#x16'],
    ['postgres://user:pa/ss86@db.example.com:465/app', 'pa/ss86'],
    ['postgres://user:p%41ss80@db.example.com:465/app', 'p%41ss80'],
    ['postgres://user:a%2Fb?c@db.example.com:465/app', 'a/b?c'],
    ['postgres://user:p@ss:w%rd@db.example.com:465/app', 'p@ss:w%rd'],
  ])('%s is stored so that Airflow reads the password %s', async (raw, meant) => {
    const ctx = await sandboxCtx(false);
    const out = runPy(pyOf(reencodeFix(ctx, 'db')), raw);
    expect(airflowReads(out)).toEqual({ login: 'user', password: meant, host: 'db.example.com', port: '465' });
  });

  it('for an id the sandbox seeded, the re-encoded URI goes into its config through `up --conn` (a bare `up` would seed the raw one again, or refuse it)', async () => {
    const made = await sandboxCtx(true);
    const fix = reseedFix(made, 'db');
    expect(fix).toMatch(
      / up \S+ --conn "db=\$\(\S+ kv get -field=conn_uri .*-mount=secret connections\/db \| python3 -c '/,
    );
    expect(reseedFix(await sandboxCtx(false), 'db')).toBeUndefined();
  });

  it('a fields secret with names Connection() refuses: known aliases renamed, the rest dropped, read from and written back to Vault', async () => {
    const ctx = await sandboxCtx(false);
    const fix = fieldNamesFix(ctx, 'db', ['hostname', 'colour'], 2);
    expect(fix).toMatch(/ kv put .*-mount=secret connections\/db - {2}# renames hostname -> host; drops colour$/);
    const kv2 = JSON.stringify({ data: { data: { conn_type: 'postgres', hostname: 'h', colour: 'red', login: 'u' } } });
    expect(JSON.parse(runPy(pyOf(fix), kv2))).toEqual({ conn_type: 'postgres', host: 'h', login: 'u' });
  });
});

describe.skipIf(!python)('re-stores of a secret Airflow cannot use (real python3)', () => {
  it('a variable whose only key is not value: that key moved to value (KV v1 data as `kv get -format=json` prints it)', async () => {
    const ctx = await sandboxCtx(false);
    const fix = restoreFix(ctx, { mount: 'kv', path: 'variables/v' }, 1, '{"value": d["val"]}', 'moved');
    expect(fix).toMatch(/ kv put .*-mount=kv variables\/v - {2}# moved$/);
    expect(JSON.parse(runPy(pyOf(fix), JSON.stringify({ data: { val: 'x y' } })))).toEqual({ value: 'x y' });
  });

  it('what only the user knows is a placeholder in the exact kv put (the whole secret replaced)', async () => {
    const ctx = await sandboxCtx(false);
    const at = { mount: 'secret', path: 'connections/db' };
    expect(storeMeantFix(ctx, at, 'connection')).toMatch(
      new RegExp(` kv put -address=\\S+ -mount=secret connections/db conn_uri='${YOUR_CONN_URI}' {2}# `),
    );
    expect(storeMeantFix(ctx, { mount: 'secret', path: 'variables/v' }, 'variable')).toContain(
      `-mount=secret variables/v value='${YOUR_VAR_VALUE}'`,
    );
  });
});

describe('a secret under `uri` (Connection(uri=...) takes it, as the provider hands json.dumps of the secret)', () => {
  it('resolves as the URI says', () => {
    expect(exactFromSecret({ uri: 'postgres://u:p@h:5432/d' })).toMatchObject({
      conn_type: 'postgres',
      host: 'h',
      login: 'u',
      password: 'p',
      port: 5432,
      schema: 'd',
    });
  });
});

describe("an id answered by a later backend after Vault's raised", () => {
  const vaultRaised: BackendAnswer<string> = {
    name: 'VaultBackend',
    found: false,
    error: [{ type: 'hvac.exceptions.Forbidden', name: 'Forbidden', message: 'permission denied', status: 403 }],
    logs: [],
    requests: [{ method: 'GET', origin: 'http://127.0.0.1:8200', path: '/v1/secret/data/connections/db', status: 403 }],
  };
  const env: BackendAnswer<string> = {
    name: 'EnvironmentVariablesBackend',
    found: true,
    error: null,
    logs: [],
    requests: [],
  };
  const report = (vault: BackendAnswer<string>): ProbeReport => ({
    timings: {},
    init_error: null,
    config: {},
    backends: [{ class: 'airflow.providers.hashicorp.secrets.vault.VaultBackend', name: 'VaultBackend' }],
    connections: { db: { found: true, error: null, logs: [], backends: [vault, env] } },
    variables: {},
    wallSeconds: 1,
  });

  it('fails the verdict, and Vault failed request explains it (a refused token: auth first)', () => {
    const p = report(vaultRaised);
    const s = summarise(p, '3.3.2');
    expect(s.ok).toBe(false);
    expect(s.detail).toContain('its Vault backend failed');
    expect(firstFailure(p)?.requests[0]?.status).toBe(403);
    expect(airflowCause(p)[0]).toBe('auth');
  });

  it('an id Vault does not hold and the environment answers stays a pass (a shadow, not a failure)', () => {
    const s = summarise(report({ ...vaultRaised, error: null, requests: [] }), '3.3.2');
    expect(s.ok).toBe(true);
  });
});
