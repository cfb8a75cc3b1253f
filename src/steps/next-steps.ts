/** Step 9: what to run now, short, with the real paths. */
import { relative } from 'node:path';
import type { CreateContext } from './context.js';
import { dagTaskIds } from '../airflow/templates.js';

function shellArg(p: string): string {
  return /^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** How the user ran us: `npx create-secrets-sandbox` when installed, `node <path>/dist/cli.js` from a clone. */
function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (!script || script.includes('/node_modules/') || !script.endsWith('.js')) return 'npx create-secrets-sandbox';
  const rel = relative(process.cwd(), script);
  return `node ${shellArg(rel.startsWith('..') ? script : rel)}`;
}

export function nextSteps(ctx: CreateContext): void {
  const dirRel = relative(process.cwd(), ctx.paths.dir) || '.';
  const dir = shellArg(dirRel.startsWith('..') ? ctx.paths.dir : dirRel);
  const envFile = dir === '.' ? './.env' : `${dir}/.env`;
  const first = ctx.settings.connections[0]?.id ?? 'smtp_default';
  const steps = [`set -a; . ${envFile.startsWith('/') || envFile.startsWith('.') ? envFile : `./${envFile}`}; set +a    # load the sandbox env into this shell`];
  if (ctx.settings.airflowVersion === '1.10') {
    steps.push(`airflow test example_secrets_dag ${dagTaskIds([first]).get(first)} 2024-01-01`);
  } else {
    steps.push(`airflow connections get ${first} -o json    # Airflow reads it from Vault`);
    if (ctx.settings.dag) steps.push(`airflow dags test example_secrets_dag    # the example DAG resolves every connection`);
  }
  const cmdDir = dir === 'secrets-sandbox' ? '' : ` ${dir}`;
  const self = selfCommand();
  steps.push(`${self} status${cmdDir}    # is the server up`);
  steps.push(`${self} down${cmdDir}      # stop it; 'up' starts and re-seeds it`);
  ctx.nextSteps = steps;
}
