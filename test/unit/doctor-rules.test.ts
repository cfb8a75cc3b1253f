/**
 * doctor's machinery without a server: the runner (typed facts, crash status), the rule that makes
 * Airflow's verdict doctor's verdict, and the provider rules the emulation follows. Expected values
 * come from the provider's and requests' source (cited), not from the code under test.
 */
import { describe, expect, it } from 'vitest';
import { CHECKS, runChecks } from '../../src/doctor/index.js';
import { judge, VERDICT_ID } from '../../src/doctor/verdict.js';
import { bypassesProxy } from '../../src/doctor/proxy.js';
import { secretShapeProblem } from '../../src/doctor/provider-rules.js';
import { missingAuthKey } from '../../src/airflow/backend/index.js';
import { type Check, type CheckId, type CheckResult, type DoctorContext, defineCheck } from '../../src/doctor/types.js';
import type { VaultClient } from '../../src/vault/client.js';

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
      id: 'dag',
      title: 'Boom',
      async run() {
        throw new TypeError('no such thing');
      },
    };
    const after: Check = {
      id: 'macos-fork-safety',
      title: 'After',
      async run() {
        return { status: 'ok', detail: 'ran' };
      },
    };
    const r = await runChecks(ctx, [boom, after]);
    expect(r[0]).toMatchObject({ id: 'dag', status: 'crash' });
    expect(r[0]?.detail).toContain('TypeError: no such thing');
    expect(r[1]).toMatchObject({ id: 'macos-fork-safety', status: 'ok' });
  });

  it('hands a check exactly the facts of the checks it needs, and crashes a provider that passes without them', async () => {
    const url = new URL('http://127.0.0.1:1');
    const giver = defineCheck({
      id: 'address',
      title: 'Giver',
      async run() {
        return { status: 'ok', detail: '', facts: { url, client: {} as VaultClient } };
      },
    });
    const reader = defineCheck({
      id: 'proxy',
      title: 'Reader',
      needs: ['address'],
      async run(i) {
        return { status: 'ok', detail: i.url.href };
      },
    });
    const blind = defineCheck({
      id: 'scheme',
      title: 'Blind',
      async run(i) {
        return { status: 'ok', detail: 'url' in i ? 'sees url' : 'sees nothing' };
      },
    });
    const silent = defineCheck({
      id: 'token',
      title: 'Silent',
      async run() {
        return { status: 'ok', detail: '' };
      },
    });
    const r = await runChecks(ctx, [giver, reader, blind, silent] as Check[]);
    expect(r[1]?.detail).toBe('http://127.0.0.1:1/');
    expect(r[2]?.detail).toBe('sees nothing');
    expect(r[3]).toMatchObject({
      status: 'crash',
      detail: 'the check itself crashed: Error: passed without handing on its facts',
    });
  });

  it('skips a check whose need crashed', async () => {
    const boom: Check = {
      id: 'dag',
      title: 'Boom',
      async run() {
        throw new Error('x');
      },
    };
    const dep: Check = {
      id: 'macos-fork-safety',
      title: 'Dep',
      needs: ['dag'],
      async run() {
        return { status: 'ok', detail: '' };
      },
    };
    expect((await runChecks(ctx, [boom, dep]))[1]).toMatchObject({
      status: 'skip',
      detail: 'needs "Boom", which crashed',
    });
  });

  it("a failure of a check that declares --fix repairs it is marked repairable; another's is not", async () => {
    const mend: Check = {
      id: 'reachable',
      title: 'Mend',
      repair: true,
      run: async () => ({ status: 'fail', detail: '' }),
    };
    const keep: Check = { id: 'proxy', title: 'Keep', run: async () => ({ status: 'fail', detail: '' }) };
    const own: Check = {
      id: 'token',
      title: 'Own',
      repair: true,
      run: async () => ({ status: 'fail', detail: '', repairable: false }),
    };
    const r = await runChecks(ctx, [mend, keep, own]);
    expect(r.map((x) => x.repairable)).toEqual([true, undefined, undefined]);
  });
});

describe("judge: Airflow's verdict is doctor's verdict", () => {
  const row = (id: CheckId, status: CheckResult['status'], link?: CheckResult['link']): CheckResult => ({
    id,
    title: id,
    status,
    detail: `${id} detail`,
    fix: `${id} fix`,
    link,
  });
  const asked = { probe: undefined, sandbox: undefined, intendedAirflow: undefined };

  it('Airflow resolves everything: a failed emulation check becomes a warning, so the exit code is 0', () => {
    const out = judge([row(VERDICT_ID, 'ok', 'airflow'), row('mount', 'fail', 'mount and path')], CHECKS, asked);
    expect(out.results.map((r) => r.status)).toEqual(['ok', 'warn']);
    expect(out.results[1]?.detail).toContain('Airflow resolves every id anyway');
    expect(out).toMatchObject({ verdict: 'airflow', decided: true, failed: false });
  });

  it("Airflow fails: the first broken link in Airflow's order explains it and lends its fix", () => {
    const out = judge(
      [
        row(VERDICT_ID, 'fail', 'airflow'),
        row('connections', 'fail', 'policy'),
        row('backend-kwargs', 'fail', 'kwargs'),
        row('server-binary', 'fail', 'setup'),
      ],
      CHECKS,
      asked,
    );
    expect(out.results[0]?.detail).toContain('First broken link: kwargs (backend-kwargs)');
    expect(out.results[0]?.fix).toBe('backend-kwargs fix');
    expect(out.results[0]?.explainedBy).toBe('backend-kwargs');
    expect(out.failed).toBe(true);
  });

  it('Airflow resolves every id but a seeded one with other values: the verdict fails, explained by the values', () => {
    const out = judge([row(VERDICT_ID, 'ok', 'airflow'), row('values', 'fail', 'secret shape')], CHECKS, asked);
    expect(out.results[0]).toMatchObject({ status: 'fail', explainedBy: 'values', fix: 'values fix' });
    expect(out.failed).toBe(true);
  });

  it('kwargs Airflow drops are the broken link once what follows breaks', () => {
    const dropped = { ...row('backend-kwargs', 'warn', 'kwargs'), suspect: true };
    const out = judge(
      [row(VERDICT_ID, 'fail', 'airflow'), dropped, row('connections', 'fail', 'mount and path')],
      CHECKS,
      asked,
    );
    expect(out.results[0]?.explainedBy).toBe('backend-kwargs');
    expect(out.results[1]?.status).toBe('fail');
  });

  it('a suspect never explains a link Airflow walks before it: no backend class is the broken link, not the unset kwargs', () => {
    const unset = { ...row('backend-kwargs', 'warn', 'kwargs'), suspect: true };
    const out = judge(
      [row(VERDICT_ID, 'fail', 'airflow'), row('backend-class', 'fail', 'backend class'), unset],
      CHECKS,
      asked,
    );
    expect(out.results[0]?.explainedBy).toBe('backend-class');
  });

  it('Airflow fails and no check explains it: says so, never a guess, and prints no fix it cannot stand behind', () => {
    const out = judge(
      [{ ...row(VERDICT_ID, 'fail', 'airflow'), fix: undefined }, row('mount', 'ok', 'mount and path')],
      CHECKS,
      asked,
    );
    expect(out.results[0]?.detail).toContain("No check explains this; the error above is Airflow's own");
    expect(out.results[0]?.fix).toBeUndefined();
  });

  it('without Airflow: a proven failure decides; a skipped check the verdict needs leaves it to Airflow; all passing decides', () => {
    const proven = judge([row(VERDICT_ID, 'skip', 'airflow'), row('mount', 'fail', 'mount and path')], CHECKS, asked);
    expect(proven).toMatchObject({ verdict: 'emulation', decided: true, failed: true });
    const open = judge([row(VERDICT_ID, 'skip', 'airflow'), row('mount', 'ok'), row('values', 'skip')], CHECKS, asked);
    expect(open).toMatchObject({ verdict: 'emulation', decided: false, failed: false });
    expect(open.results[0]?.detail).toContain('Airflow would decide this');
    const pass = judge([row(VERDICT_ID, 'skip', 'airflow'), row('mount', 'ok'), row('dag', 'skip')], CHECKS, asked);
    expect(pass).toMatchObject({ decided: true, failed: false });
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

describe('no check claims what it could not see', () => {
  it("a server that does not answer: 'TLS certificate' says it cannot tell, as 'http or https' does, never ok", async () => {
    const { address } = await import('../../src/doctor/address.js');
    const { tls } = await import('../../src/doctor/tls.js');
    const { scheme } = await import('../../src/doctor/scheme.js');
    const { reachable } = await import('../../src/doctor/reachable.js');
    const { createServer } = await import('node:net');
    // A port nothing listens on: bound, then closed.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    for (const proto of ['http', 'https']) {
      const c = {
        ...ctx,
        access: { url: `${proto}://127.0.0.1:${port}`, urlFrom: 'VAULT_ADDR' },
        backend: { kwargs: {}, keySources: {} },
      } as unknown as DoctorContext;
      const [, t, s, r] = await runChecks(c, [address, tls, scheme, reachable]);
      expect(s?.status, `${proto}: ${s?.detail}`).toBe('skip');
      expect(t?.status, `${proto}: ${t?.detail}`).toBe('skip');
      expect(t?.detail).toMatch(/^cannot tell/);
      // The link that is broken is still named: nothing listens there.
      expect(r?.status, `${proto}: ${r?.detail}`).toBe('fail');
      expect(r?.detail).toContain(`nothing listens on 127.0.0.1:${port}`);
    }
  });
});
