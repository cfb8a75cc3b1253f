import { existsSync } from 'node:fs';
import { identifyBinary, INSTALL_HINT, locateBinary } from '../vault/binary.js';
import { defineCheck, ok, warn } from './types.js';

export const serverBinary = defineCheck({
  id: 'server-binary',
  title: 'Vault server binary',
  link: 'setup',
  async run(ctx) {
    const explicit = ctx.config?.server?.bin ?? ctx.processEnv.VAULT_BIN;
    let binary;
    try {
      let path: string;
      try {
        path = locateBinary(explicit, ctx.config?.server?.bin ? '--vault-bin' : 'VAULT_BIN');
      } catch (e) {
        // The binary an earlier run used (state.json) still serves when it is no longer on PATH, as in create and up.
        const known = ctx.sandbox?.facts.facts.bin;
        if (explicit !== undefined || !known || !existsSync(known)) throw e;
        path = known;
      }
      const f = ctx.sandbox?.facts.facts;
      binary = await identifyBinary(
        path,
        f?.bin && f.flavour && f.version
          ? { bin: f.bin, binStamp: f.binStamp, flavour: f.flavour, version: f.version }
          : null,
      );
    } catch (e) {
      const msg = (e as Error).message;
      // What Airflow reads does not depend on it: only `up` needs it, to start the sandbox's server again.
      return warn(ctx.paths ? `${msg}: \`up\` cannot start the sandbox's server again` : msg, INSTALL_HINT);
    }
    const b = binary;
    const detail = `${b.flavour} ${b.version} at ${b.path}`;
    return ok(detail);
  },
});
