import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DAG_FILE } from '../sandbox/index.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { toolMade } from './fixes.js';
import { defineCheck, ok, skip, warn } from './types.js';

export const dag = defineCheck({
  id: 'dag',
  title: 'Example DAG where Airflow looks',
  async run(ctx) {
    const home = ctx.env.get('AIRFLOW_HOME') ?? join(ctx.home, 'airflow');
    const folder = resolve(ctx.env.get('AIRFLOW__CORE__DAGS_FOLDER') ?? join(home, 'dags'));
    if (existsSync(join(folder, DAG_FILE))) return ok(`${join(folder, DAG_FILE)}`);
    const sb = toolMade(ctx);
    if (!sb) return skip(`no ${DAG_FILE} in ${folder} (not a sandbox this tool made)`);
    // Where the sandbox writes it: airflow.dags_dir of its config, else the default (src/sandbox).
    if (existsSync(sb.paths.dag)) {
      return warn(
        `Airflow reads DAGs from ${folder}, but the example DAG is in ${sb.paths.dagsDir}`,
        `export AIRFLOW__CORE__DAGS_FOLDER=${shellArg(sb.paths.dagsDir)}  # the sandbox .env sets it`,
      );
    }
    return warn(`no ${DAG_FILE} in ${folder}`, `${selfCommand()} ${shellArg(sb.dir)} --yes  # writes it`);
  },
});
