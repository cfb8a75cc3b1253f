import { HEALTH_STATUS } from '../vault/client.js';
import { type Check, fail, ok, warn } from './types.js';

const FIX: Record<number, string> = {
  429: 'point at the active node, or add ?standbyok=true in health checks',
  501: 'initialise it: vault operator init (a dev server never needs this: are you pointing at a production server?)',
  503: 'unseal it: vault operator unseal (a dev server that is sealed was sealed by hand; restart it)',
};

export const health: Check = {
  id: 'health',
  title: 'Server health',
  link: 'address/TLS/proxy',
  needs: ['reachable'],
  async run(ctx) {
    const h = await ctx.client!.health();
    const meaning = HEALTH_STATUS[h.status] ?? 'in an unknown state';
    const version = h.body?.version ? ` (version ${h.body.version})` : '';
    if (h.status === 200) return ok(`${meaning}${version}`);
    if (h.status === 429 || h.status === 473) return warn(`health ${h.status}: ${meaning}${version}`, FIX[429]);
    return fail(`health ${h.status}: the server is ${meaning}`, FIX[h.status] ?? 'see the server log');
  },
};
