/**
 * Step 1: flags, config file, environment and defaults merged by the settings schema into one
 * validated settings object (mergeSettings), then what the machine holds (discover: the Airflow to
 * check with, the version and format it implies, imports). Bad input throws before anything runs.
 */
import { discover, mergeSettings, type CreateOptions, type Settings } from '../settings.js';
import type { AirflowInstall } from '../airflow/runner.js';

export async function resolve(options: CreateOptions): Promise<{ settings: Settings; airflow: AirflowInstall | null }> {
  const { settings } = await mergeSettings(options);
  const airflow = await discover(settings, options);
  return { settings, airflow };
}
