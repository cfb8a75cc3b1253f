import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Check, ok, warn } from './types.js';

export const vaultTokenFile: Check = {
  id: 'vault-token-file',
  title: '~/.vault-token',
  needs: ['reachable'],
  async run(ctx) {
    const file = join(ctx.home, '.vault-token');
    if (!existsSync(file)) return ok('none: nothing stale for the vault CLI or hvac to pick up');
    const t = readFileSync(file, 'utf8').trim();
    if (!t) return ok('empty');
    try {
      await ctx.client!.withToken(t).lookupSelf();
      return ok(`holds a token this server accepts`);
    } catch {
      return warn(
        `${file} holds a token this server refuses: the vault CLI and hvac use it whenever VAULT_TOKEN is unset`,
        `remove it (rm ${file}) or export VAULT_TOKEN; this tool never writes it`,
      );
    }
  },
};
