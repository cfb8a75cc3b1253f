import { selfCommand, shellArg } from '../ui/invocation.js';
import { type Check, fail, ok } from './types.js';

export const token: Check = {
  id: 'token',
  title: 'Vault token',
  needs: ['health'],
  async run(ctx) {
    if (!ctx.token) {
      return fail('no token: the kwargs have no "token" and VAULT_TOKEN is unset', ctx.paths ? `create-secrets-sandbox ${ctx.paths.dir} --yes --force rewrites .env` : 'set "token" in AIRFLOW__SECRETS__BACKEND_KWARGS (1.10 and providers before 3.6.3 ignore VAULT_TOKEN)');
    }
    try {
      const info = await ctx.client!.lookupSelf();
      return ok(`accepted (policies: ${info.policies.join(', ') || 'none'})`);
    } catch (e) {
      const msg = (e as Error).message;
      if (/403/.test(msg)) {
        const stale = ctx.serverToken && ctx.serverToken !== ctx.token ? '; the sandbox server now has another root token' : '';
        return fail(
          `the server refuses the token${stale}: a dev server forgets every token when it restarts`,
          ctx.paths ? `${selfCommand()} up ${shellArg(ctx.paths.dir)} (rewrites .env with the live token)` : 'use the Root Token from the dev server\'s output in VAULT_TOKEN and the kwargs',
        );
      }
      return fail(msg);
    }
  },
};
