/** Step 1: flags, config file and defaults into one validated settings object, and the Airflow to check with. */
import { resolveSettings, type CreateOptions, type Settings } from '../settings.js';
import type { AirflowInstall } from '../airflow/runner.js';

export async function resolve(options: CreateOptions): Promise<{ settings: Settings; configFile?: string; airflow: AirflowInstall | null }> {
  return resolveSettings(options);
}
