import { selfCommand, shellArg } from '../ui/invocation.js';
import { isAlive } from '../vault/server.js';
import { type Check, fail, ok } from './types.js';

export const reachable: Check = {
  id: 'reachable',
  title: 'Server reachable',
  link: 'address/TLS/proxy',
  // A certificate problem is named by "TLS certificate"; not reachable would send the user the wrong way.
  needs: ['address', 'tls'],
  async run(ctx) {
    try {
      await ctx.client!.health();
      return ok(`${ctx.url!.origin} answers`);
    } catch (e) {
      const msg = (e as Error).message;
      if ((e as { kind?: string }).kind === 'scheme')
        return fail('the server speaks another scheme (see "http or https")', 'fix the scheme as said above');
      const up = ctx.paths
        ? `${selfCommand()} up ${shellArg(ctx.paths.dir)}`
        : 'start it: vault server -dev -dev-no-store-token (or npx create-secrets-sandbox)';
      if (/refused/.test(msg)) {
        const stale =
          ctx.state && !isAlive(ctx.state.pid)
            ? ` (.sandbox/state.json names pid ${ctx.state.pid}, which is gone)`
            : '';
        return fail(`nothing listens on ${ctx.url!.host}: the server is not running${stale}`, up);
      }
      return fail(msg, up);
    }
  },
};
