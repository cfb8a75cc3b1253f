/**
 * doctor's machinery without a server: the runner (typed facts, crash status), the rule that makes
 * Airflow's verdict doctor's verdict, and the provider rules the emulation follows. Expected values
 * come from the provider's and requests' source (cited), not from the code under test.
 */
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../src/doctor/index.js';
import { judge, VERDICT_ID } from '../../src/doctor/verdict.js';
import { bypassesProxy } from '../../src/doctor/proxy.js';
import { secretShapeProblem } from '../../src/doctor/provider-rules.js';
import { missingAuthKey } from '../../src/airflow/backend/index.js';
import type { Check, CheckResult, DoctorContext } from '../../src/doctor/types.js';

const ctx = {
  env: new Map(),
  envFileKeys: new Set(),
  envSource: 'the environment',
  processEnv: {},
  home: '/nonexistent',
  kwargsSource: 'x',
  backendSource: 'y',
} as unknown as DoctorContext;

describe('runChecks', () => {
  it('reports a check that throws as crash with its error, and runs the rest', async () => {
    const boom: Check = {
      id: 'boom',
      title: 'Boom',
      async run() {
        throw new TypeError('no such thing');
      },
    };
    const after: Check = {
      id: 'after',
      title: 'After',
      async run() {
        return { status: 'ok', detail: 'ran' };
      },
    };
    const r = await runChecks(ctx, [boom, after]);
    expect(r[0]).toMatchObject({ id: 'boom', status: 'crash' });
    expect(r[0]!.detail).toContain('TypeError: no such thing');
    expect(r[1]).toMatchObject({ id: 'after', status: 'ok' });
  });

  it('hands declared facts to later checks, and crashes a check that provides what it did not declare', async () => {
    const giver: Check = {
      id: 'giver',
      title: 'Giver',
      provides: ['connIds'],
      async run() {
        return { status: 'ok', detail: '', facts: { connIds: ['a', 'b'] } };
      },
    };
    const reader: Check = {
      id: 'reader',
      title: 'Reader',
      async run(i) {
        return { status: 'ok', detail: (i.connIds ?? []).join('+') };
      },
    };
    const liar: Check = {
      id: 'liar',
      title: 'Liar',
      async run() {
        return { status: 'ok', detail: '', facts: { varKeys: ['x'] } };
      },
    };
    const r = await runChecks(ctx, [giver, reader, liar]);
    expect(r[1]!.detail).toBe('a+b');
    expect(r[2]!.status).toBe('crash');
  });

  it('skips a check whose need crashed', async () => {
    const boom: Check = {
      id: 'boom',
      title: 'Boom',
      async run() {
        throw new Error('x');
      },
    };
    const dep: Check = {
      id: 'dep',
      title: 'Dep',
      needs: ['boom'],
      async run() {
        return { status: 'ok', detail: '' };
      },
    };
    expect((await runChecks(ctx, [boom, dep]))[1]).toMatchObject({
      status: 'skip',
      detail: 'needs "Boom", which crashed',
    });
  });
});

describe("judge: Airflow's verdict is doctor's verdict", () => {
  const row = (id: string, status: CheckResult['status'], link?: CheckResult['link']): CheckResult => ({
    id,
    title: id,
    status,
    detail: `${id} detail`,
    fix: `${id} fix`,
    link,
  });

  it('Airflow resolves everything: a failed emulation check becomes a warning, so the exit code is 0', () => {
    const out = judge([row(VERDICT_ID, 'ok', 'airflow'), row('mount', 'fail', 'mount and path')]);
    expect(out.map((r) => r.status)).toEqual(['ok', 'warn']);
    expect(out[1]!.detail).toContain('Airflow resolves every id anyway');
  });

  it("Airflow fails: the first broken link in Airflow's order explains it and lends its fix", () => {
    const out = judge([
      row(VERDICT_ID, 'fail', 'airflow'),
      row('connections', 'fail', 'policy'),
      row('backend-kwargs', 'fail', 'kwargs'),
      row('server-binary', 'fail', 'setup'),
    ]);
    expect(out[0]!.detail).toContain('First broken link: kwargs (backend-kwargs)');
    expect(out[0]!.fix).toBe('backend-kwargs fix');
    expect(out[0]!.explainedBy).toBe('backend-kwargs');
  });

  it('Airflow fails and no check explains it: says so, never a guess', () => {
    const out = judge([row(VERDICT_ID, 'fail', 'airflow'), row('mount', 'ok', 'mount and path')]);
    expect(out[0]!.detail).toContain("No check explains this; the error above is Airflow's own");
  });

  it('without Airflow the emulation stands as it is', () => {
    const rows = [row(VERDICT_ID, 'skip', 'airflow'), row('mount', 'fail', 'mount and path')];
    expect(judge(rows)).toEqual(rows);
  });
});

describe('provider rules', () => {
  // apache-airflow-providers-hashicorp _internal_client/vault_client.py __init__
  it('auth_type approle needs role_id; token needs token, token_path or VAULT_TOKEN', () => {
    expect(missingAuthKey('approle', { secret_id: 's' }, new Map())).toBe('role_id');
    expect(missingAuthKey('approle', { role_id: 'r' }, new Map(), 'build')).toBeNull();
    expect(missingAuthKey('approle', { role_id: 'r' }, new Map(), 'login')).toBe('secret_id');
    expect(missingAuthKey('userpass', { username: 'u' }, new Map(), 'build')).toBeNull();
    expect(missingAuthKey('userpass', { username: 'u' }, new Map(), 'login')).toBe('password');
    expect(missingAuthKey('token', {}, new Map())).toBe('token or token_path or VAULT_TOKEN');
    expect(missingAuthKey('token', {}, new Map([['VAULT_TOKEN', 't']]))).toBeNull();
    expect(missingAuthKey('jwt', { jwt_role: 'r' }, new Map())).toBe('jwt_token or jwt_token_path');
  });

  // VaultBackend.get_conn_value + Connection.from_json / Connection.__init__ (Airflow 3.3 models/connection.py)
  it('a secret Airflow can build a Connection from, and one it cannot', () => {
    expect(secretShapeProblem({ conn_uri: 'postgres://h' }, '3')).toBeNull();
    expect(secretShapeProblem({ uri: 'postgres://h' }, '3')).toBeNull();
    expect(secretShapeProblem({ conn_type: 'postgres', host: 'h', port: '5432' }, '2')).toBeNull();
    expect(secretShapeProblem({ conn_type: 'postgres', hostname: 'h' }, '3')).toMatch(
      /hostname are not Connection fields/,
    );
    expect(secretShapeProblem({ conn_uri: '', conn_type: 'postgres' }, '3')).toMatch(/conn_uri/);
    expect(secretShapeProblem({ uri: 'postgres://h', host: 'x' }, '3')).toMatch(/mix/);
    expect(secretShapeProblem({ conn_type: 'postgres', port: 'abc' }, '3')).toMatch(/not an integer/);
    expect(secretShapeProblem({ conn_type: 'postgres', team_name: 't' }, '2')).toMatch(/team_name/);
  });

  // requests.utils.should_bypass_proxies
  it('NO_PROXY as requests reads it', () => {
    const u = new URL('http://127.0.0.1:8200');
    expect(bypassesProxy(u, '')).toBe(false);
    expect(bypassesProxy(u, 'localhost,127.0.0.1')).toBe(true);
    expect(bypassesProxy(u, '127.0.0.0/8')).toBe(true);
    expect(bypassesProxy(u, '10.0.0.0/8')).toBe(false);
    expect(bypassesProxy(new URL('http://vault.corp.example:8200'), '.example')).toBe(true);
    expect(bypassesProxy(new URL('http://vault.corp.example:8200'), 'corp.example')).toBe(true);
    expect(bypassesProxy(new URL('http://notexample:8200'), 'example')).toBe(false);
    expect(bypassesProxy(u, '*')).toBe(true);
  });
});
