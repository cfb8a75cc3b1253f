/** Step 1: flags, config file and defaults into one validated settings object (prompts come from the UI layer). */
import { resolveSettings, type CreateOptions, type Settings } from '../settings.js';

export async function resolve(options: CreateOptions): Promise<{ settings: Settings; configFile?: string }> {
  return resolveSettings(options);
}
