/** The real services the steps get (src/steps/context.ts Services); unit tests pass fakes instead. */
import { setTimeout as sleep } from 'node:timers/promises';
import { diagnose } from '../doctor/diagnose.js';
import type { Services } from '../steps/context.js';
import { portIsFree } from '../vault/address.js';
import { VaultClient } from '../vault/client.js';

export function realServices(env: NodeJS.ProcessEnv = process.env): Services {
  return {
    vault: (options) => new VaultClient(options),
    portIsFree,
    clock: { now: () => Date.now(), sleep: (ms) => sleep(ms) },
    env,
    diagnose,
  };
}
