/**
 * The seed step's decisions against a fake Vault: what it reports per secret (created, updated,
 * unchanged), how many writes it has in flight at once, and what a write that fails midway leaves
 * (the step's failure naming the secret; a rerun converges).
 */
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/errors.js';
import { narrow } from '../../src/steps/context.js';
import { seedStep } from '../../src/steps/seed.js';
import { FakeVaultServer, flowContext, httpError } from '../support/fakes.js';

const ROOT = 's.root-token-of-the-fake';

async function seeding(flags: Record<string, unknown>, server = new FakeVaultServer().mount('secret', 'kv', 2)) {
  server.tokens.add(ROOT);
  const ctx = await flowContext(server, flags);
  const client = server.client({ url: 'http://127.0.0.1:8200', token: ROOT });
  const run = async (startedNow = false) => {
    const server_ = { pid: 1, url: client.url, token: ROOT, startedNow };
    return seedStep.run(narrow({ ...ctx, client, server: server_ }, seedStep));
  };
  return { server, ctx, client, run };
}

const conns = (n: number) => Array.from({ length: n }, (_, i) => `c${i}=postgres://u:p@db${i}:5432/app`);

describe('seed step', () => {
  it('reports created on an empty mount, unchanged on a rerun, updated for a changed URI', async () => {
    const { server, run, ctx } = await seeding({ conn: ['a=postgres://u:p@h:5432/db', 'b=http://h'], var: ['k=v'] });
    const first = await run();
    expect(first.seeded?.map((r) => `${r.kind}:${r.id}:${r.outcome}`)).toEqual([
      'connection:a:created',
      'connection:b:created',
      'variable:k:created',
    ]);
    expect(server.writes).toHaveLength(3);
    expect((await run()).seeded?.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(server.writes).toHaveLength(3); // nothing written the second time
    const changed = await seeding({ conn: ['a=postgres://u:p@h:5433/db', 'b=http://h'], var: ['k=v'] }, server);
    expect((await changed.run()).seeded?.map((r) => r.outcome)).toEqual(['updated', 'unchanged', 'unchanged']);
    expect(ctx.report.lines.at(-1)?.text).toBe('0 created, 0 updated, 3 unchanged');
  });

  it('on a server this run started (empty by construction) writes without reading first', async () => {
    const { server, run } = await seeding({ conn: ['a=http://h'] });
    server.mounts.get('secret')?.data.set('connections/a', { conn_uri: 'http://other' });
    // Started now: the step trusts the empty server and writes; the outcome says created.
    expect((await run(true)).seeded?.[0]?.outcome).toBe('created');
  });

  it('seeds concurrently, at most 16 requests at once, and keeps the order of the settings', async () => {
    const { server, run } = await seeding({ conn: conns(100) });
    const { seeded } = await run();
    expect(server.maxInFlight).toBeGreaterThan(1);
    expect(server.maxInFlight).toBeLessThanOrEqual(16);
    expect(seeded?.map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => `c${i}`));
  });

  it('a write that fails midway is the step failure naming that secret; a rerun writes the rest and converges', async () => {
    const { server, run } = await seeding({ conn: conns(40) });
    server.beforeWrite = (path) => {
      if (path === 'secret/connections/c17')
        throw httpError('POST', 'secret/data/connections/c17', 500, 'internal error');
    };
    const failed = await run().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StepError);
    expect((failed as StepError).message).toContain("writing connection 'c17' to secret/connections/c17 failed");
    expect((failed as StepError).fix).toContain('rerun');
    expect(server.writes).not.toContain('secret/connections/c17');
    server.beforeWrite = () => {};
    const rerun = await run();
    const created = rerun.seeded?.filter((r) => r.outcome === 'created').map((r) => r.id) ?? [];
    expect(created).toContain('c17');
    expect(rerun.seeded?.every((r) => r.outcome !== 'updated')).toBe(true);
    expect((await run()).seeded?.every((r) => r.outcome === 'unchanged')).toBe(true);
  });

  it('records the seeded set before it writes, so doctor asks about it even when the writes fail', async () => {
    const { server, run, ctx } = await seeding({ conn: ['a=http://h'], var: ['k=v'] });
    server.beforeWrite = () => {
      throw httpError('POST', 'secret/data/x', 503, 'sealed');
    };
    await expect(run()).rejects.toBeInstanceOf(StepError);
    const { readFacts } = await import('../../src/sandbox/index.js');
    expect(readFacts(ctx.paths).facts.seeded).toEqual({ connections: ['a'], variables: ['k'] });
  });
});
