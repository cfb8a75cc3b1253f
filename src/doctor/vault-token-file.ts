import { join } from 'node:path';
import { MAX_TOKEN_BYTES, readUserFileIfExists } from '../io/read.js';
import { serverClient } from './clients.js';
import { defineCheck, ok, warn } from './types.js';

export const vaultTokenFile = defineCheck({
  id: 'vault-token-file',
  title: '~/.vault-token',
  needs: ['address', 'reachable'],
  async run(ctx) {
    const file = join(ctx.home, '.vault-token');
    const text = readUserFileIfExists(file, { what: 'the vault CLI token file', maxBytes: MAX_TOKEN_BYTES });
    if (text === null) return ok('none: nothing stale for the vault CLI or hvac to pick up');
    const t = text.trim();
    if (!t) return ok('empty');
    // Asked with the sandbox server's own token when it can: the file's token spends nothing.
    const admin = serverClient(ctx);
    const known = await (admin ? admin.lookupToken(t) : ctx.client.withToken(t).lookupSelf()).then(
      () => true,
      () => false,
    );
    if (known) return ok('holds a token this server accepts');
    return warn(
      `${file} holds a token this server refuses: the vault CLI and hvac use it whenever VAULT_TOKEN is unset`,
      `rm ${file}  # this tool never writes it`,
    );
  },
});
