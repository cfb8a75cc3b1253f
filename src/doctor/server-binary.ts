import { existsSync } from 'node:fs';
import { identifyBinary, INSTALL_HINT, locateBinary } from '../vault/binary.js';
import { readFacts } from '../sandbox.js';
import { type Check, fail, ok, warn } from './types.js';

export const serverBinary: Check = {
  id: 'server-binary',
  title: 'Vault server binary',
  link: 'setup',
  provides: ['binary'],
  async run(ctx) {
    const explicit = ctx.config?.server?.bin ?? ctx.processEnv.VAULT_BIN;
    let binary;
    try {
      let path: string;
      try {
        path = locateBinary(explicit, ctx.config?.server?.bin ? '--vault-bin' : 'VAULT_BIN');
      } catch (e) {
        // The binary an earlier run used (state.json) still serves when it is no longer on PATH, as in create and up.
        const known = ctx.paths ? readFacts(ctx.paths).facts.bin : undefined;
        if (explicit !== undefined || !known || !existsSync(known)) throw e;
        path = known;
      }
      binary = await identifyBinary(path, ctx.state);
    } catch (e) {
      const msg = (e as Error).message;
      // Outside a sandbox the server may run elsewhere; only a sandbox needs its own binary to start.
      return ctx.paths ? fail(msg, INSTALL_HINT) : warn(msg, INSTALL_HINT);
    }
    const b = binary;
    const detail = `${b.flavour} ${b.version} at ${b.path}`;
    return ok(detail, undefined, { binary });
  },
};
