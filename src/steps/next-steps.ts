/**
 * Step 9: what to run now, short, with the real paths, in the order that works when pasted:
 * activate the venv the Airflow lives in, load .env, give Airflow a home and migrate it, then ask
 * it. The command names this tool as the user invoked it, and the server's web UI when it has one.
 */
import { dagTaskIds } from '../airflow/templates.js';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { CreateContext } from './context.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { HOW_TO_GET_A_UI, serverUi } from '../vault/ui.js';

function pathFor(p: string): string {
  const rel = relative(process.cwd(), p);
  return shellArg(
    rel === '' ? '.' : rel.startsWith('..') ? p : rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`,
  );
}

export async function nextSteps(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  const steps: string[] = [];
  // The venv the Airflow lives in (found or made), so `airflow` is the one that was checked.
  const bin =
    ctx.airflow?.bin ??
    (existsSync(join(ctx.paths.dir, '.venv', 'bin', 'airflow'))
      ? join(ctx.paths.dir, '.venv', 'bin', 'airflow')
      : undefined);
  const activate = bin ? join(dirname(bin), 'activate') : undefined;
  if (activate && existsSync(activate))
    steps.push(
      `. ${pathFor(activate)}    # the Airflow${ctx.airflow ? ` ${ctx.airflow.version}` : ''} found for this sandbox`,
    );
  else if (!bin)
    steps.push(
      `# no Airflow found: ${selfCommand()} ${pathFor(ctx.paths.dir)} --yes --with-airflow installs one into ${pathFor(join(ctx.paths.dir, '.venv'))} (or activate yours)`,
    );
  steps.push(`set -a; . ${pathFor(ctx.paths.env)}; set +a    # load the sandbox env into this shell`);
  const first = s.connections[0]?.id ?? ctx.checks[0]?.id ?? 'smtp_default';
  if (s.airflowVersion === '1.10') {
    steps.push(`airflow initdb    # once per AIRFLOW_HOME`);
    steps.push(`airflow test example_secrets_dag ${dagTaskIds([first]).get(first)} 2024-01-01`);
  } else {
    // A home of its own: `db migrate` there never touches the user's Airflow, and `dags test` needs a migrated db.
    steps.push(
      `export AIRFLOW_HOME=${shellArg(join(ctx.paths.stateDir, 'airflow'))}; airflow db migrate    # a fresh Airflow home for the sandbox`,
    );
    // An id like -x would read as an option: `--` ends the options (argparse, Airflow 2 and 3).
    const get = first.startsWith('-') ? `-o json -- ${first}` : `${first} -o json`;
    steps.push(`airflow connections get ${get}    # Airflow reads it from Vault`);
    if (s.dag) {
      if (s.airflowVersion === '3') steps.push('airflow dags reserialize    # Airflow 3 tests only serialized DAGs');
      steps.push('airflow dags test example_secrets_dag    # the example DAG resolves every connection');
    }
  }
  const url = ctx.server?.url;
  const ui = url ? await serverUi(url, ctx.target?.caFile) : null;
  ctx.ui = ui?.served
    ? { url: ui.url, sign_in: 'method Token; the token is VAULT_TOKEN in .env (or run with --show-token)' }
    : null;
  const where = ctx.airflowAuth
    ? 'the root token (--show-token prints it; .env holds only the AppRole credentials)'
    : 'the VAULT_TOKEN in .env; --show-token prints it';
  if (ui?.served) steps.push(`# web UI: ${ui.url} (sign in with method Token and ${where})`);
  else if (ui) steps.push(`# no web UI: ${HOW_TO_GET_A_UI}`);
  const dirDefault = ctx.paths.dir === join(process.cwd(), 'secrets-sandbox') || ctx.paths.dir === process.cwd();
  const cmdDir = dirDefault ? '' : ` ${pathFor(ctx.paths.dir)}`;
  const self = selfCommand();
  steps.push(`${self} status${cmdDir}    # is the server up`);
  steps.push(`${self} down${cmdDir}      # stop it; 'up' starts and re-seeds it`);
  ctx.nextSteps = steps;
}
