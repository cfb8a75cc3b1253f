import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DAG_FILE } from '../sandbox/index.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { ok, skip, warn, defineCheck } from './types.js';

export const dag = defineCheck({
  id: 'dag',
  title: 'Example DAG where Airflow looks',
  async run(ctx) {
    const home = ctx.env.get('AIRFLOW_HOME') ?? join(ctx.home, 'airflow');
    const folder = resolve(ctx.env.get('AIRFLOW__CORE__DAGS_FOLDER') ?? join(home, 'dags'));
    if (existsSync(join(folder, DAG_FILE))) return ok(`${join(folder, DAG_FILE)}`);
    if (!ctx.paths) return skip(`no ${DAG_FILE} in ${folder} (not a sandbox)`);
    // Where the sandbox writes it: airflow.dags_dir of its config, else the default (src/sandbox).
    if (existsSync(ctx.paths.dag)) {
      return warn(
        `Airflow reads DAGs from ${folder}, but the example DAG is in ${ctx.paths.dagsDir}`,
        `export AIRFLOW__CORE__DAGS_FOLDER=${shellArg(ctx.paths.dagsDir)}  # the sandbox .env sets it`,
      );
    }
    return warn(`no ${DAG_FILE} in ${folder}`, `${selfCommand()} ${shellArg(ctx.paths.dir)} --yes  # writes it`);
  },
});
