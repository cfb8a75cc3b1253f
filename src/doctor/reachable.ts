import { relative } from 'node:path';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { VaultError } from '../vault/client.js';
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
      const kind = e instanceof VaultError ? e.kind : undefined;
      if (kind === 'scheme')
        return fail('the server speaks another scheme (see "http or https")', 'fix the scheme as said above');
      const up = ctx.paths
        ? `${selfCommand()} up ${shellArg(ctx.paths.dir)}`
        : 'start it: vault server -dev -dev-no-store-token (or npx create-secrets-sandbox)';
      if (kind === 'refused') {
        const pid = ctx.state?.pid;
        const stale =
          ctx.paths && pid !== undefined && !isAlive(pid)
            ? ` (${relative(process.cwd(), ctx.paths.state) || ctx.paths.state} names pid ${pid}, which is gone)`
            : '';
        return fail(`nothing listens on ${ctx.url!.host}: the server is not running${stale}`, up);
      }
      return fail(msg, up);
    }
  },
};
