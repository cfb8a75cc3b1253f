/**
 * Every answer of a Vault server is checked before use (src/vault/answer.ts) and read up to a cap
 * (src/vault/client.ts): a server, or anything at a --vault-url, that answers out of shape becomes
 * one clear line (a VaultError of kind not-vault), never a TypeError, a stack trace or a dead
 * process. Generated: each answer the client reads is taken from the REAL server through a
 * rewriting proxy, one field of it replaced by a value of another type, and every client call must
 * then return values of its declared types or throw a VaultError. Named: issue 21's three answers
 * (500 {"errors":[1]}, a list with keys "abc", a 600 MB body with --json) through the built CLI.
 */
import { fc } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultClient, VaultError } from '../../src/vault/client.js';
import { missing, serverBinary } from '../support/env.js';
import { type Rewrite, startRewritingProxy } from '../support/fault-proxy.js';
import {
  killAndWait,
  readJson,
  runCli,
  startManualServer,
  type Workspace,
  workspace,
  cleanup,
} from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);

/** Every node of a JSON value, by path (the root is []). */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function replaced(v: unknown, at: (string | number)[], by: unknown): unknown {
  if (at.length === 0) return by;
  const [head, ...rest] = at;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaced(x, rest, by) : x));
  const o = v as Record<string, unknown>;
  return { ...o, [head as string]: replaced(o[head as string], rest, by) };
}

/** Values of every JSON type, each wrong somewhere. */
const OTHER = [1, 'abc', null, true, [], {}, [1], { a: 1 }, ['x'], -1.5];

const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each client call, and what its answer must be when it does not throw (written from the declared types). */
const CALLS: { name: string; call: (c: VaultClient) => Promise<unknown>; typed: (r: any) => boolean }[] = [
  {
    name: 'health',
    call: (c) => c.health(),
    typed: (r) =>
      typeof r.status === 'number' &&
      (r.body === null ||
        (isObject(r.body) &&
          ['initialized', 'sealed', 'standby', 'enterprise'].every(
            (k) => r.body[k] === undefined || typeof r.body[k] === 'boolean',
          ) &&
          ['version', 'cluster_name'].every((k) => r.body[k] === undefined || typeof r.body[k] === 'string'))),
  },
  {
    name: 'lookupSelf',
    call: (c) => c.lookupSelf(),
    typed: (r) =>
      isStrings(r.policies) &&
      typeof r.displayName === 'string' &&
      typeof r.ttl === 'number' &&
      typeof r.path === 'string',
  },
  {
    name: 'mountInfo',
    call: (c) => c.mountInfo('secret'),
    typed: (r) =>
      r === null || (typeof r.path === 'string' && typeof r.type === 'string' && [1, 2, null].includes(r.kvVersion)),
  },
  {
    name: 'kvRead',
    call: (c) => c.kvRead('secret', 'connections/pg'),
    typed: (r) => r === null || (isObject(r.data) && typeof r.version === 'number'),
  },
  {
    name: 'kvWrite',
    call: (c) => c.kvWrite('secret', 'connections/w', { conn_uri: 'http://h' }),
    typed: (r) => typeof r === 'number',
  },
  { name: 'kvList', call: (c) => c.kvList('secret', 'connections'), typed: isStrings },
  { name: 'listSecrets', call: (c) => c.listSecrets('secret', 'connections', 2), typed: isStrings },
  {
    name: 'capabilitiesSelf',
    call: (c) => c.capabilitiesSelf(['secret/data/connections/pg']),
    typed: (r) => isObject(r) && Object.values(r).every(isStrings),
  },
  {
    name: 'listAuthMethods',
    call: (c) => c.listAuthMethods(),
    typed: (r) => isObject(r) && Object.values(r).every((t) => typeof t === 'string'),
  },
  { name: 'readPolicy', call: (c) => c.readPolicy('default'), typed: (r) => r === null || typeof r === 'string' },
  { name: 'readRoleId', call: (c) => c.readRoleId('approle', 'r'), typed: (r) => typeof r === 'string' },
  {
    name: 'generateSecretId',
    call: (c) => c.generateSecretId('approle', 'r'),
    typed: (r) => typeof r.secretId === 'string' && typeof r.ttl === 'number',
  },
  {
    name: 'approleLogin',
    call: async (c) => {
      const roleId = await c.withToken(ROOT_TOKEN).readRoleId('approle', 'r');
      return c.withToken('').approleLogin(roleId, SECRET_ID);
    },
    typed: (r) => typeof r.token === 'string' && isStrings(r.policies) && typeof r.ttl === 'number',
  },
  {
    name: 'secretIdExpiry',
    call: (c) => c.secretIdExpiry('approle', 'r', SECRET_ID),
    typed: (r) => r === null || r === 'unknown-secret-id' || (r instanceof Date && !Number.isNaN(r.getTime())),
  },
];

const ROOT_TOKEN = 'manual-root-token';
let SECRET_ID = '';

describe.skipIf(skipReason)('answers out of shape', () => {
  let w: Workspace;
  let server: { url: string; token: string; pid: number };
  beforeAll(async () => {
    w = workspace(BIN);
    server = await startManualServer(w, BIN ?? '');
    const c = new VaultClient({ url: server.url, token: server.token });
    await c.kvWrite('secret', 'connections/pg', { conn_uri: 'postgres://u:p@h:5432/d', owner: 'team' });
    await c.enableAuthMethod('approle', 'approle');
    await c.writeAppRole('approle', 'r', { tokenPolicies: ['default'], secretIdTtl: 3600 });
    SECRET_ID = (await c.generateSecretId('approle', 'r')).secretId;
  });
  afterAll(async () => {
    await killAndWait(server.pid);
    expect(cleanup(w)).toEqual([]);
  });

  it('the unchanged answers pass every call (the generator below starts from them)', async () => {
    const c = new VaultClient({ url: server.url, token: server.token });
    for (const k of CALLS) expect(k.typed(await k.call(c)), k.name).toBe(true);
  });

  it('one field of a real answer replaced by a value of another type: typed values or a VaultError, for every call', async () => {
    // Each call's answers as the real server gives them, recorded once: the generator picks a field among them.
    const seen = new Map<string, unknown>();
    const rec = await startRewritingProxy(server.url, (req, _status, body) => {
      seen.set(`${req.method} ${req.path}`, body);
      return undefined;
    });
    try {
      for (const k of CALLS) await k.call(new VaultClient({ url: rec.url, token: server.token }));
    } finally {
      await rec.close();
    }
    let mutation: { path: (string | number)[]; by: unknown } = { path: [], by: null };
    let target = '';
    const proxy = await startRewritingProxy(server.url, (req, status, body) => {
      if (`${req.method} ${req.path}` !== target || typeof body !== 'object') return undefined;
      return { status, body: JSON.stringify(replaced(body, mutation.path, mutation.by)) };
    });
    try {
      const requests = [...seen.entries()].filter(([, b]) => typeof b === 'object' && b !== null);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...requests),
          fc.nat(),
          fc.constantFrom(...OTHER),
          fc.constantFrom(...CALLS),
          async ([req, body], pick, by, k) => {
            const all = paths(body);
            mutation = { path: all[pick % all.length] ?? [], by };
            target = req;
            let result: unknown;
            try {
              result = await k.call(new VaultClient({ url: proxy.url, token: server.token }));
            } catch (e) {
              expect(e, `${k.name} with ${req} ${JSON.stringify(mutation)}: ${(e as Error).stack}`).toBeInstanceOf(
                VaultError,
              );
              expect((e as Error).message).not.toMatch(/is not a function|undefined|\[object Object\]/);
              return;
            }
            expect(
              k.typed(result),
              `${k.name} with ${req} ${JSON.stringify(mutation)}: ${JSON.stringify(result)}`,
            ).toBe(true);
          },
        ),
        { numRuns: 600, seed: 21 },
      );
    } finally {
      await proxy.close();
    }
  });

  it('an answer over the cap is cut there: a VaultError naming the size, no memory blow-up', async () => {
    const proxy = await startRewritingProxy(server.url, (req) =>
      req.path.includes('list=true') ? { status: 200, streamBytes: 600 * 1024 * 1024 } : undefined,
    );
    try {
      const c = new VaultClient({ url: proxy.url, token: server.token, timeoutMs: 60_000 });
      const before = process.memoryUsage().rss;
      await expect(c.kvList('secret', 'connections')).rejects.toMatchObject({ kind: 'not-vault' });
      expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    } finally {
      await proxy.close();
    }
  });

  describe('through the CLI: one line, exit 1, JSON with --json', () => {
    const ANSWERS: { name: string; rewrite: (req: { method: string; path: string }) => Rewrite | undefined }[] = [
      {
        name: 'a --vault-url answering 500 {"errors":[1]}',
        rewrite: (req) => (req.path.includes('/connections/') ? { status: 500, body: '{"errors":[1]}' } : undefined),
      },
      {
        name: 'a --vault-url whose list answer has keys: "abc"',
        rewrite: (req) =>
          req.path.includes('list=true')
            ? { status: 200, body: '{"data":{"keys":"abc"}}' }
            : req.path.includes('/connections/')
              ? { status: 500, body: '{"errors":["down"]}' }
              : undefined,
      },
      {
        name: 'a --vault-url answering a 600 MB body',
        rewrite: (req) =>
          req.path.includes('/connections/') ? { status: 200, streamBytes: 600 * 1024 * 1024 } : undefined,
      },
    ];
    for (const a of ANSWERS) {
      for (const json of [false, true]) {
        it(`${a.name}${json ? ' (--json)' : ''}: exit 1 with one clear line, never a stack trace`, async () => {
          const proxy = await startRewritingProxy(server.url, a.rewrite);
          const cw = workspace(BIN, { VAULT_TOKEN: server.token });
          try {
            const args = [
              '--yes',
              '--vault-url',
              proxy.url,
              '--seed',
              '--conn',
              'pg=postgres://u:s3cret-pw@h:5432/d',
              '--check',
              'vault',
            ];
            const r = await runCli(cw, json ? [...args, '--json'] : args);
            expect(r.code, r.stdout + r.stderr).toBe(1);
            const all = r.stdout + r.stderr;
            expect(all).not.toMatch(/at .*\.js:\d+|is not a function|ERR_STRING_TOO_LONG|Node\.js v/);
            expect(all).not.toContain('s3cret-pw');
            if (json) {
              const j = readJson<{ ok: boolean; error: string }>(r.stdout);
              expect(j.ok).toBe(false);
              expect(j.error).toMatch(/Vault does not give|more than 32 MB|500/);
            } else {
              expect(r.stderr.split('\n').filter((l) => l.startsWith('✖'))).toHaveLength(1);
            }
          } finally {
            await proxy.close();
            cleanup(cw);
          }
        });
      }
    }
  });
});
