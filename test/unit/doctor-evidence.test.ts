/**
 * How doctor reads Airflow's own evidence (the probe's report) and which fixes it may print: the
 * first failed attempt (a listing among them) is the one that explains, a secret's keys say why
 * VaultBackend returned nothing, and `up` is offered only for a sandbox this tool made. The probe
 * reports are written by hand, shaped as templates/airflow_probe.py writes them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BackendAnswer,
  type IdVerdict,
  type ProbeReport,
  type SentRequest,
  taskSideMisses,
} from '../../src/airflow/probe.js';
import { airflowCause } from '../../src/doctor/cause.js';
import { buildDoctorContext } from '../../src/doctor/context.js';
import { attempts, firstFailure } from '../../src/doctor/evidence.js';
import { toolMade, upFix } from '../../src/doctor/fixes.js';
import { unusable } from '../../src/doctor/lookup.js';
import { policyFix } from '../../src/doctor/policy-or-path.js';
import { POLICY_NAME } from '../../src/vault/auth/policy.js';
import { reencodeFix } from '../../src/doctor/values.js';
import { summarise } from '../../src/doctor/verdict.js';

const ORIGIN = 'http://127.0.0.1:8200';
const req = (method: string, path: string, status?: number, error?: string): SentRequest => ({
  method,
  origin: ORIGIN,
  path,
  ...(status !== undefined ? { status } : {}),
  ...(error !== undefined ? { error } : {}),
});
const forbidden = [{ type: 'hvac.exceptions.Forbidden', name: 'Forbidden', message: 'permission denied', status: 403 }];

function report(over: Partial<ProbeReport>): ProbeReport {
  return {
    timings: {},
    init_error: null,
    config: {},
    backends: [{ class: 'airflow.providers.hashicorp.secrets.vault.VaultBackend', name: 'VaultBackend' }],
    connections: {},
    variables: {},
    wallSeconds: 1,
    ...over,
  };
}

function answer(name: string, over: Partial<BackendAnswer<string>> = {}): BackendAnswer<string> {
  return { name, found: false, error: null, logs: [], requests: [], ...over };
}

function missed(backends: BackendAnswer<string>[]): IdVerdict {
  return { found: false, error: null, logs: [], backends };
}

describe("Airflow's first failed attempt explains", () => {
  it('with no ids to ask, a listing refused at its AppRole login is the failure, and the link is auth', () => {
    const p = report({
      listing: [
        {
          kind: 'connections',
          path: 'connections',
          keys: [],
          error: forbidden,
          requests: [req('POST', '/v1/auth/approle/login', 403)],
        },
      ],
    });
    expect(firstFailure(p)?.requests[0]?.path).toBe('/v1/auth/approle/login');
    expect(airflowCause(p)).toEqual(['auth']);
  });

  it("a listing's requests count among Airflow's attempts (its login is Airflow's login), before the lookups", () => {
    const login = req('POST', '/v1/auth/approle/login', 200);
    const p = report({
      listing: [{ kind: 'connections', path: 'connections', keys: ['a'], error: null, requests: [login] }],
      connections: {
        a: missed([answer('VaultBackend', { requests: [req('GET', '/v1/secret/data/connections/a', 404)] })]),
      },
    });
    const all = attempts(p);
    expect(all.map((a) => a.requests[0]?.path)).toEqual(['/v1/auth/approle/login', '/v1/secret/data/connections/a']);
    // The miss, not the listing that worked, is the failure; a 404 points at mount and path.
    expect(firstFailure(p)?.requests[0]?.status).toBe(404);
    expect(airflowCause(p)).toEqual(['mount and path']);
  });

  it("a miss names VaultBackend's answer, not the metastore's error a fresh AIRFLOW_HOME always has", () => {
    const metastore = answer('MetastoreBackend', {
      error: [
        { type: 'sqlalchemy.exc.OperationalError', name: 'OperationalError', message: 'no such table: connection' },
      ],
    });
    const p = report({ connections: { a: missed([answer('VaultBackend'), metastore]) } });
    const s = summarise(p, '3.3.2');
    expect(s.ok).toBe(false);
    expect(s.detail).toContain('VaultBackend returned nothing for it');
    expect(s.detail).not.toContain('OperationalError');
  });
});

describe("Airflow 3's task side", () => {
  it('an id its first backend misses but an AIRFLOW_CONN_ env var answers is no miss (a task asks the env vars next)', () => {
    const env = answer('EnvironmentVariablesBackend', { found: true });
    const p = report({
      connections: {
        byEnv: { found: true, error: null, logs: [], backends: [answer('VaultBackend'), env] },
        nowhere: missed([answer('VaultBackend'), answer('EnvironmentVariablesBackend')]),
      },
      workers: {
        config: { secrets_backend: { source: 'airflow.cfg' }, secrets_backend_kwargs: { source: 'default' } },
        per_key_kwargs: [],
        section: 'secrets',
        backend: { class: 'airflow.providers.hashicorp.secrets.vault.VaultBackend', name: 'VaultBackend' },
        init_error: null,
        connections: { byEnv: answer('VaultBackend'), nowhere: answer('VaultBackend') },
        variables: {},
      },
    });
    expect(taskSideMisses(p)).toEqual(['nowhere']);
  });
});

describe('why VaultBackend returns nothing for a secret Vault holds, from its keys', () => {
  it('a variable without a "value" key', () => {
    expect(unusable('variables', { keys: ['val'], null: [] })).toContain('no "value" key (keys: val)');
  });
  it('a variable whose "value" is null', () => {
    expect(unusable('variables', { keys: ['value'], null: ['value'] })).toContain('"value" is null');
  });
  it('an empty secret, which VaultBackend takes for "not found"', () => {
    expect(unusable('connections', { keys: [], null: [] })).toContain('an empty secret');
  });
  it('without the keys (an older probe), it says only that Vault holds it', () => {
    expect(unusable('connections', undefined)).toBe('Vault holds it, but VaultBackend returns nothing for it');
  });
});

describe('fixes doctor prints', () => {
  async function sandboxCtx(withRun: boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'css-toolmade-'));
    writeFileSync(join(dir, 'secrets-sandbox.yaml'), 'version: 1\n');
    if (withRun) {
      mkdirSync(join(dir, '.sandbox'), { mode: 0o700 });
      writeFileSync(join(dir, '.sandbox', 'state.json'), JSON.stringify({ dir }), { mode: 0o600 });
    }
    return buildDoctorContext(dir, { PATH: '/nonexistent', HOME: dir }, { airflow: null });
  }

  it('`up` only for a sandbox this tool made: a config written by hand (no run recorded) gets none', async () => {
    const hand = await sandboxCtx(false);
    expect(hand.sandbox).toBeDefined();
    expect(toolMade(hand)).toBeUndefined();
    expect(upFix(hand)).toBeUndefined();
    const made = await sandboxCtx(true);
    expect(toolMade(made)).toBeDefined();
    expect(upFix(made)).toMatch(/ up /);
  });

  it('a policy that lacks the read rule, in a sandbox this tool made: the rule goes into policy.hcl and `up` writes it (a policy edited in Vault would be undone by the next run)', async () => {
    const made = await sandboxCtx(true);
    const at = { mount: 'secret', base: 'connections', kv: 2 as const };
    const fix = policyFix({ ...made, login: { policies: ['default', POLICY_NAME] } }, at);
    // A command that appends the rule to policy.hcl, then the rerun: run its first half as printed.
    const [append, rerun] = fix.split(' && ');
    expect(rerun).toMatch(/ up \S+ {2}# the rerun writes policy\.hcl to Vault$/);
    writeFileSync(made.sandbox?.paths.policy ?? '', '# mine\n');
    execFileSync('bash', ['-c', append ?? '']);
    expect(readFileSync(made.sandbox?.paths.policy ?? '', 'utf8')).toBe(
      '# mine\n\npath "secret/data/connections/*" { capabilities = ["read"] }\n',
    );
    // policy.hcl already grants it (the policy was changed in Vault): the rerun alone puts it back.
    writeFileSync(
      made.sandbox?.paths.policy ?? '',
      'path "secret/data/connections/*" {\n  capabilities = ["read"]\n}\n',
    );
    expect(policyFix({ ...made, login: { policies: [POLICY_NAME] } }, at, 'db')).toMatch(
      / up \S+ {2}# writes policy\.hcl, which grants the read, back to Vault$/,
    );
    // Elsewhere (a policy this tool does not write): the command that adds the rule, at the address Airflow uses.
    const hand = await sandboxCtx(false);
    const cmd = policyFix({ ...hand, login: { policies: ['default', 'airflow-read'] } }, at);
    expect(cmd).toContain(`policy write -address=${hand.access.url} airflow-read -`);
    // A token whose only policy is default: the rule goes there (a policy it does not carry would change nothing).
    const onlyDefault = policyFix({ ...hand, login: { policies: ['default'] } }, at);
    expect(onlyDefault).toContain(`policy read -address=${hand.access.url} default `);
    expect(onlyDefault).toContain(`policy write -address=${hand.access.url} default -`);
  });

  it('the re-encoding fix names the address Airflow talks to, so it reaches that server whatever VAULT_ADDR says', async () => {
    const ctx = await sandboxCtx(false);
    const fix = reencodeFix({ ...ctx, mount: 'secret', connectionsPath: 'connections' }, 'db');
    expect(fix).toBeDefined();
    expect(fix).toContain(`-address=${ctx.access.url}`);
    expect(fix).toContain('-mount=secret connections/db');
  });
});
