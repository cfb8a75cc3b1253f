/**
 * Where the dev server listens, decided against a fake port probe: the default when free, the
 * next free pair said aloud when not, a named address that is taken refused as bad input (exit 2),
 * the port the last run bound kept, and this sandbox's running server reused or stopped first.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { type AddressInput, chooseAddress } from '../../src/steps/address.js';
import { formatAddress, type ListenAddress } from '../../src/vault/address.js';
import { fakePorts } from '../support/fakes.js';

const at = (port: number, host = '127.0.0.1'): ListenAddress => ({ host, port });
const DEFAULT = at(8200);

async function choose(input: Partial<AddressInput>, taken: ListenAddress[] = []) {
  const warnings: string[] = [];
  const ports = fakePorts(taken);
  const choice = await chooseAddress({ wanted: DEFAULT, explicit: false, ...input }, ports, (m) => warnings.push(m));
  return { address: formatAddress(choice.address), decision: choice.decision, warnings, asked: ports.asked };
}

describe('address choice', () => {
  it('the default, free with its cluster port: taken as is, nothing said', async () => {
    const r = await choose({});
    expect(r).toMatchObject({ address: '127.0.0.1:8200', decision: {}, warnings: [] });
    expect(r.asked).toEqual(['127.0.0.1:8200', '127.0.0.1:8201']);
  });

  it('the default taken: the next port free with its cluster port, said aloud', async () => {
    const r = await choose({}, [at(8200), at(8203)]);
    // 8201 is free but 8202 (its cluster port) is too; 8201+8202 is the first free pair.
    expect(r.address).toBe('127.0.0.1:8201');
    expect(r.warnings).toEqual([
      '127.0.0.1:8200 is taken; the server will listen on 127.0.0.1:8201 instead (written into .env)',
    ]);
  });

  it("the default's cluster port taken: moves on, naming the cluster port", async () => {
    const r = await choose({}, [at(8201)]);
    expect(r.address).toBe('127.0.0.1:8202');
    expect(r.warnings[0]).toBe(
      '127.0.0.1:8201, the cluster port of 127.0.0.1:8200, is taken; the server will listen on 127.0.0.1:8202 instead (written into .env)',
    );
  });

  it('a named address that is taken: bad input (exit 2) naming it and a free pair to pick', async () => {
    const e = await choose({ wanted: at(9000), explicit: true }, [at(9000), at(9002)]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(2);
    expect((e as UsageError).message).toBe(
      '127.0.0.1:9000 is already in use by another process: stop what holds 127.0.0.1:9000, or pick a free port with --address 127.0.0.1:9003 (it and 9004 are free now)',
    );
  });

  it('a named address whose cluster port is taken: bad input naming the cluster port; never moved silently', async () => {
    const e = await choose({ wanted: at(9000), explicit: true }, [at(9001)]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/^127\.0\.0\.1:9000 is free, but 127\.0\.0\.1:9001 is already in use/);
  });

  it('a named address that is free: taken, nothing said', async () => {
    expect(await choose({ wanted: at(9000), explicit: true }, [at(8200)])).toMatchObject({
      address: '127.0.0.1:9000',
      warnings: [],
    });
  });

  it('the port the last run bound is kept while free (so .env stays valid), even when the default is free too', async () => {
    expect((await choose({ recorded: '127.0.0.1:8207' })).address).toBe('127.0.0.1:8207');
  });

  it('the recorded port taken since: back to the default, said aloud', async () => {
    const r = await choose({ recorded: '127.0.0.1:8207' }, [at(8207)]);
    expect(r.address).toBe('127.0.0.1:8200');
    expect(r.warnings[0]).toMatch(/^127\.0\.0\.1:8207 is taken; the server will listen on 127\.0\.0\.1:8200/);
  });

  it('a recorded address that cannot be read is no fact: the default', async () => {
    expect((await choose({ recorded: 'not an address' })).address).toBe('127.0.0.1:8200');
  });

  it("this sandbox's running server is reused where it listens, whatever the default; no port is probed", async () => {
    const running = { pid: 4242, address: '127.0.0.1:8215', url: 'http://127.0.0.1:8215' };
    const r = await choose({ running }, [at(8215), at(8216)]);
    expect(r).toMatchObject({ address: '127.0.0.1:8215', decision: { reuse: { pid: 4242, url: running.url } } });
    expect(r.asked).toEqual([]);
  });

  it('a running server on another address than the one named: stopped first, and its ports count as free', async () => {
    const running = { pid: 4242, address: '127.0.0.1:9000', url: 'http://127.0.0.1:9000' };
    const named = await choose({ running, wanted: at(9100), explicit: true });
    expect(named.decision).toEqual({
      stopFirst: 4242,
      restartReason: 'it listens on 127.0.0.1:9000, not 127.0.0.1:9100',
    });
    // Named on the running server's own cluster port: that server goes first, so its ports count as free.
    const overlap = await choose({ running, wanted: at(9001), explicit: true }, [at(9000), at(9001)]);
    expect(overlap).toMatchObject({ address: '127.0.0.1:9001', decision: { stopFirst: 4242 } });
    // The same server named by its own address is reused, not restarted.
    const same = await choose({ running, wanted: at(9000), explicit: true }, [at(9000), at(9001)]);
    expect(same.decision).toEqual({ reuse: { pid: 4242, url: running.url } });
  });
});
