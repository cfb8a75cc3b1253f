/** Step 9: what to run now, short, with the real paths. */
import { relative } from 'node:path';
import type { CreateContext } from './context.js';

function shellArg(p: string): string {
  return /^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

export function nextSteps(ctx: CreateContext): void {
  const dirRel = relative(process.cwd(), ctx.paths.dir) || '.';
  const dir = shellArg(dirRel.startsWith('..') ? ctx.paths.dir : dirRel);
  const envFile = dir === '.' ? './.env' : `${dir}/.env`;
  const first = ctx.settings.connections[0]?.id ?? 'smtp_default';
  const steps = [`set -a; . ${envFile.startsWith('/') || envFile.startsWith('.') ? envFile : `./${envFile}`}; set +a    # load the sandbox env into this shell`];
  if (ctx.settings.airflowVersion === '1.10') {
    steps.push(`airflow test example_secrets_dag check_${first.replace(/[.-]/g, '_')} 2024-01-01`);
  } else {
    steps.push(`airflow connections get ${first} -o json    # Airflow reads it from Vault`);
    if (ctx.settings.dag) steps.push(`airflow dags test example_secrets_dag    # the example DAG resolves every connection`);
  }
  const cmdDir = dir === 'secrets-sandbox' ? '' : ` ${dir}`;
  steps.push(`npx create-secrets-sandbox status${cmdDir}    # is the server up`);
  steps.push(`npx create-secrets-sandbox down${cmdDir}      # stop it; 'up' starts and re-seeds it`);
  ctx.nextSteps = steps;
}
