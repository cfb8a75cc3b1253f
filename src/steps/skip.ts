/** Skip reasons more than one step shares. */
import type { FlowContext } from './context.js';

/** An existing Vault (--vault-url) is not ours: no binary, no start, no wait for our own process. */
export function ownServerOnly(ctx: FlowContext): string | undefined {
  return ctx.settings.existing ? 'an existing Vault: nothing to start' : undefined;
}
