import { HEALTH_STATUS } from '../vault/client.js';
import { shellArg } from '../ui/invocation.js';
import { toolMade, upFix } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, warn } from './types.js';

const STANDBY_FIX = 'point the url at the active node';

/** A sealed sandbox server: unsealed with the key its banner printed (a dev server has one). */
function unsealFix(ctx: CheckInput<'address'>): string | undefined {
  const sb = toolMade(ctx);
  if (!sb) return undefined;
  const bin = sb.facts.facts.bin ? shellArg(sb.facts.facts.bin) : undefined;
  if (!bin) return upFix(ctx);
  return `${bin} operator unseal -address=${ctx.url.origin} "$(awk '/^Unseal Key:/ {print $NF; exit}' ${shellArg(sb.paths.serverOut)})"`;
}

export const health = defineCheck({
  id: 'health',
  title: 'Server health',
  link: 'address/TLS/proxy',
  needs: ['address', 'reachable'],
  verdict: true,
  async run(ctx) {
    const h = await ctx.client.health();
    const meaning = HEALTH_STATUS[h.status] ?? 'in an unknown state';
    const version = h.body?.version ? ` (version ${h.body.version})` : '';
    if (h.status === 200) return ok(`${meaning}${version}`);
    if (h.status === 429 || h.status === 473) return warn(`health ${h.status}: ${meaning}${version}`, STANDBY_FIX);
    if (h.status === 503)
      return fail(`health 503: the server is sealed: it answers nothing until unsealed`, unsealFix(ctx));
    return fail(`health ${h.status}: the server is ${meaning}`);
  },
});
