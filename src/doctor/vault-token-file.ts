import { join } from 'node:path';
import { type Check, ok, warn } from './types.js';
import { MAX_TOKEN_BYTES, readUserFileIfExists } from '../io/read.js';

export const vaultTokenFile: Check = {
  id: 'vault-token-file',
  title: '~/.vault-token',
  needs: ['reachable'],
  async run(ctx) {
    const file = join(ctx.home, '.vault-token');
    const text = readUserFileIfExists(file, { what: 'the vault CLI token file', maxBytes: MAX_TOKEN_BYTES });
    if (text === null) return ok('none: nothing stale for the vault CLI or hvac to pick up');
    const t = text.trim();
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
