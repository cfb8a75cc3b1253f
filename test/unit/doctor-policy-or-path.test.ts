/**
 * A 403 on Airflow's read, told apart with what the token may ask about itself (its resultant ACL,
 * the mounts it may use, reads where its policy reaches): the path when the secret sits where the
 * policy grants (a wrong mount, path or KV version), the policy when it does not, and the deny rule
 * itself when one wins. The token's answers are a fake shaped as OpenBao and Vault 1.21 answer
 * (`sys/internal/ui/resultant-acl` keys globs without their `*`); the fixes are run where they can be.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { deniedBy, grantedPlaces, missFix, refusedRead } from '../../src/doctor/policy-or-path.js';
import type { MountInfo, ResultantAcl } from '../../src/vault/api.js';

const URL_ = 'http://127.0.0.1:8200';
const ENV_FILE = '/home/u/sb/.env';
const kv = (path: string, v: 1 | 2): MountInfo => ({ path, type: 'kv', kvVersion: v });

function acl(glob: Record<string, string[]>, exact: Record<string, string[]> = {}): ResultantAcl {
  return { glob, exact, root: false };
}

/** A token client that answers from tables; `held` lists '<mount>|<path>|<kv>' that hold a secret. */
function fakeClient(a: ResultantAcl, mounts: Record<string, MountInfo>, held: string[]) {
  const reads: string[] = [];
  const c = {
    reads,
    withNamespace: () => c,
    withToken: () => c,
    resultantAcl: async () => a,
    lookupSelf: async () => ({ namespacePath: '' }),
    visibleMounts: async () => mounts,
    readSecret: async (mount: string, path: string, v: 1 | 2) => {
      reads.push(`${mount}|${path}|${v}`);
      return held.includes(`${mount}|${path}|${v}`) ? { conn_uri: 'postgres://h' } : null;
    },
  };
  return c;
}

function ctx(client: ReturnType<typeof fakeClient>) {
  const kwargsSource = { kind: 'env', origin: 'env-file', file: ENV_FILE, name: 'AIRFLOW__SECRETS__BACKEND_KWARGS' };
  return {
    client,
    kwargs: {},
    login: { token: 'reader-token', policies: ['default', 'reader'] },
    backend: { kwargs: {}, keySources: {}, kwargsSource },
    access: { url: URL_, authType: 'token' },
    env: new Map([['PATH', '/nonexistent']]),
    paths: { env: ENV_FILE },
  } as unknown as Parameters<typeof refusedRead>[0];
}

describe('a 403 on the read: the path or the policy', () => {
  it('mount_point where nothing is mounted: the secret is where the policy grants, so the link is the path and the fix the mount', async () => {
    const c = fakeClient(acl({ 'airflow/data/connections/': ['read'] }), { airflow: kv('airflow', 2) }, [
      'airflow|connections/c1|2',
    ]);
    const o = await refusedRead(ctx(c), 'connections', { mount: 'nothere', base: 'connections', kv: 2 }, ['c1']);
    expect(o.link).toBe('mount and path');
    expect(o.fix).toBe(`in ${ENV_FILE}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "mount_point": "airflow"`);
  });

  it('kv_engine_version 1 on a KV v2 mount (a v1 read of secret/connections/x is refused): the fix is the version', async () => {
    const c = fakeClient(acl({ 'secret/data/connections/': ['read'] }), { secret: kv('secret', 2) }, [
      'secret|connections/c1|2',
    ]);
    const o = await refusedRead(ctx(c), 'connections', { mount: 'secret', base: 'connections', kv: 1 }, ['c1']);
    expect(o.link).toBe('mount and path');
    expect(o.fix).toBe(`in ${ENV_FILE}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "kv_engine_version": 2`);
  });

  it("a policy that reads another team's path: nothing of ours there, so the link is the policy and the fix grants where Airflow reads", async () => {
    const c = fakeClient(acl({ 'secret/data/other-team/': ['read'] }), { secret: kv('secret', 2) }, []);
    const o = await refusedRead(ctx(c), 'connections', { mount: 'secret', base: 'connections', kv: 2 }, ['c1']);
    expect(o.link).toBe('policy');
    expect(c.reads).toEqual(['secret|other-team/c1|2']);
    expect(o.fix).toContain('path "secret/data/connections/*"');
    expect(o.fix).toContain(`policy write -address=${URL_} reader -`);
  });

  it('an explicit deny on the id wins over the read rule: the fix removes that rule from the policy, and leaves the grant', async () => {
    const a = acl({ 'secret/data/connections/': ['read'] }, { 'secret/data/connections/c1': ['deny'] });
    expect(deniedBy(a, 'secret/data/connections/c1')).toBe('secret/data/connections/c1');
    expect(deniedBy(a, 'secret/data/connections/c2')).toBeUndefined();
    const c = fakeClient(a, { secret: kv('secret', 2) }, ['secret|connections/c1|2']);
    const o = await refusedRead(ctx(c), 'connections', { mount: 'secret', base: 'connections', kv: 2 }, ['c1']);
    expect(o.link).toBe('policy');
    expect(o.fix).toMatch(
      /^p=\$\(vault policy read -address=\S+ reader\) && printf .* \| perl -0pe '.*' \| vault policy write -address=\S+ reader -$/,
    );
    const filter = /(perl -0pe '[^']*')/.exec(o.fix ?? '')?.[1] ?? '';
    const policy =
      'path "secret/data/connections/*" {\n  capabilities = ["read"]\n}\npath "secret/data/connections/c1" { capabilities = ["deny"] }\n';
    const out = execFileSync('bash', ['-c', filter], { input: policy, encoding: 'utf8' });
    expect(out).toBe('path "secret/data/connections/*" {\n  capabilities = ["read"]\n}\n');
  });

  it('the places a policy grants, as settings: a KV v2 rule without data/ grants nothing, the closest place comes first', () => {
    const a = acl(
      {
        'kv/data/team/': ['read'],
        'secret/connections/': ['read'],
        'secret/data/airflow/connections/': ['read'],
        'secret/data/denied/': ['deny'],
      },
      { 'other/data/conns/c1': ['read'] },
    );
    const mounts = {
      secret: kv('secret', 2),
      kv: kv('kv', 2),
      other: kv('other', 2),
      sys: { path: 'sys', type: 'system', kvVersion: null },
    };
    const places = grantedPlaces(a, mounts, { mount: 'nothere', base: 'airflow/connections', kv: 2 });
    expect(places).toEqual([
      { mount: 'secret', base: 'airflow/connections', kv: 2 },
      { mount: 'kv', base: 'team', kv: 2 },
      { mount: 'other', base: 'conns', kv: 2 },
    ]);
  });
});

/** A token client over namespaces: `held` lists '<namespace or ->|<mount>|<path>|<kv>' that hold a secret. */
function nsClient(held: string[], ns?: string): Record<string, unknown> {
  const at = ns ?? '-';
  return {
    withToken: () => nsClient(held, ns),
    withNamespace: (n: string | undefined) => nsClient(held, n),
    visibleMounts: async () => ({ secret: kv('secret', 2) }),
    listSecrets: async (mount: string, prefix: string) =>
      held
        .filter((h) => h.startsWith(`${at}|${mount}|${prefix}`))
        .map((h) => (h.split('|')[2] ?? '').slice(prefix.length).replace(/\/.*$/, '/')),
    listNamespaces: async () => (ns ? [] : ['ns1', 'ns2']),
    readSecret: async (mount: string, path: string, v: 1 | 2) =>
      held.includes(`${at}|${mount}|${path}|${v}`) ? { conn_uri: 'postgres://h' } : null,
  };
}

describe('a 403 from a namespace the token does not belong to', () => {
  it("the kwargs name an empty namespace: the token's own namespace holds the id, so the fix is the namespace", async () => {
    // The token is ns40's: asked in the kwargs' empty40, its ACL is refused; its own lookup names ns40.
    const client = (ns: string | undefined): Record<string, unknown> => ({
      withToken: () => client(ns),
      withNamespace: (n: string | undefined) => client(n),
      readSecret: async (m: string, p: string) =>
        ns === 'ns40' && m === 'kv' && p === 'connections/c1' ? { conn_uri: 'x://' } : null,
      resultantAcl: async () => {
        throw new Error('403 permission denied');
      },
      lookupSelf: async () => ({ namespacePath: 'ns40' }),
    });
    const c = { ...ctx(client(undefined) as never), kwargs: { namespace: 'empty40' } } as Parameters<
      typeof refusedRead
    >[0];
    const o = await refusedRead(c, 'connections', { mount: 'kv', base: 'connections', kv: 2 }, ['c1']);
    expect(o.link).toBe('mount and path');
    expect(o.fix).toBe(`in ${ENV_FILE}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "namespace": "ns40"`);
  });
});

describe('nothing where Airflow reads (404), in a set-up this tool did not make: where its token finds the id', () => {
  it('the mount repeated in connections_path: the folder under the mount that holds it', async () => {
    const c = ctx(nsClient(['-|secret|connections/c1|2']) as never);
    const fix = await missFix(c, 'connections', { mount: 'secret', base: 'secret/connections', kv: 2 }, 'c1');
    expect(fix).toBe(`in ${ENV_FILE}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "connections_path": "connections"`);
  });

  it('no namespace in the kwargs while the secret lives in one: the namespace that holds it', async () => {
    const c = ctx(nsClient(['ns2|secret|connections/c1|2']) as never);
    const fix = await missFix(c, 'connections', { mount: 'secret', base: 'connections', kv: 2 }, 'c1');
    expect(fix).toBe(`in ${ENV_FILE}, AIRFLOW__SECRETS__BACKEND_KWARGS: set "namespace": "ns2"`);
  });

  it('held nowhere the token can see: no fix rather than a guess', async () => {
    const c = ctx(nsClient([]) as never);
    expect(await missFix(c, 'connections', { mount: 'secret', base: 'connections', kv: 2 }, 'c1')).toBeUndefined();
  });
});
