import { describe, expect, it } from 'vitest';
import { mapLimitLazy } from '../../src/steps/seed.js';

describe('mapLimitLazy', () => {
  it('keeps the order of the results and runs every item once', async () => {
    const out = await mapLimitLazy([5, 1, 4, 2, 3], 5, 2, async (n) => {
      await new Promise((r) => setTimeout(r, n * 3));
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
  });

  it('pulls an item from the source only when a worker is free: never more than the limit made ahead', async () => {
    let made = 0;
    let done = 0;
    let maxAhead = 0;
    function* source() {
      for (let i = 0; i < 1000; i++) {
        made++;
        maxAhead = Math.max(maxAhead, made - done);
        yield i;
      }
    }
    const out = await mapLimitLazy(source(), 1000, 16, async (i) => {
      await Promise.resolve();
      done++;
      return i;
    });
    expect(out).toHaveLength(1000);
    expect(out[999]).toBe(999);
    expect(maxAhead).toBeLessThanOrEqual(16);
  });

  it('stops at the first failure', async () => {
    await expect(
      mapLimitLazy([1, 2, 3], 3, 2, async (n) => {
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
  });

  it('copes with nothing to do', async () => {
    expect(await mapLimitLazy([], 0, 16, async (n: number) => n)).toEqual([]);
  });
});
