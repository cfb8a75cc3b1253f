/**
 * Step 9: what to run now, short, with the real paths, in the order that works when pasted:
 * activate the venv the Airflow lives in, load .env, give Airflow a home and migrate it, then ask
 * it. The command names this tool as the user invoked it, and the server's web UI when it has one.
 */
import { dagTaskIds } from '../airflow/templates.js';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { defineStep, type FlowContext, type Produced } from './context.js';
import { findSandboxDir } from '../sandbox/index.js';
import { methodOf } from '../vault/auth/index.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { HOW_TO_GET_A_UI, serverUi } from '../vault/ui.js';

function pathFor(p: string): string {
  const rel = relative(process.cwd(), p);
  return shellArg(
    rel === '' ? '.' : rel.startsWith('..') ? p : rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`,
  );
}

/** Where Airflow comes from: the venv it lives in (found or made), so `airflow` is the one that was checked. */
function airflowSource(ctx: FlowContext): string[] {
  const bin = ctx.airflow?.bin ?? (existsSync(ctx.paths.venvAirflow) ? ctx.paths.venvAirflow : undefined);
  const activate = bin ? join(dirname(bin), 'activate') : undefined;
  if (activate && existsSync(activate))
    return [
      `. ${pathFor(activate)}    # the Airflow${ctx.airflow ? ` ${ctx.airflow.version}` : ''} found for this sandbox`,
    ];
  if (bin) return [];
  const install = `${selfCommand()} ${pathFor(ctx.paths.dir)} --yes --with-airflow`;
  return [`# no Airflow found: ${install} (installs one into ${pathFor(ctx.paths.venv)}; or activate yours)`];
}

/** How to ask Airflow for a connection, and to run the example DAG, in this version's words. */
function airflowCommands(ctx: FlowContext): string[] {
  const s = ctx.settings;
  const first = s.connections[0]?.id ?? ctx.checks?.[0]?.id ?? 'smtp_default';
  if (s.airflowVersion === '1.10')
    return [
      'airflow initdb    # once per AIRFLOW_HOME',
      `airflow test example_secrets_dag ${dagTaskIds([first]).get(first)} 2024-01-01`,
    ];
  // A home of its own: `db migrate` there never touches the user's Airflow, and `dags test` needs a migrated db.
  const home = `export AIRFLOW_HOME=${shellArg(ctx.paths.airflowHome)}; airflow db migrate`;
  // An id like -x would read as an option: `--` ends the options (argparse, Airflow 2 and 3).
  const get = first.startsWith('-') ? `-o json -- ${first}` : `${first} -o json`;
  const lines = [
    `${home}    # a fresh Airflow home for the sandbox`,
    `airflow connections get ${get}    # Airflow reads it from Vault`,
  ];
  if (s.dag && s.airflowVersion === '3')
    lines.push('airflow dags reserialize    # Airflow 3 tests only serialized DAGs');
  if (s.dag) lines.push('airflow dags test example_secrets_dag    # the example DAG resolves every connection');
  return lines;
}

const SIGN_IN = 'method Token; the token is VAULT_TOKEN in .env (or run with --show-token)';

/** The server's web UI when it serves one (how to sign in), or how to get one. */
async function webUi(ctx: FlowContext): Promise<{ lines: string[]; ui: Produced['ui'] }> {
  const url = ctx.server?.url;
  const ui = url ? await serverUi(url, ctx.target?.caFile) : null;
  if (!ui) return { lines: [], ui: null };
  if (!ui.served) return { lines: [`# no web UI: ${HOW_TO_GET_A_UI}`], ui: null };
  const where = ctx.airflowAuth
    ? `the root token (--show-token prints it; .env holds only Airflow's ${methodOf(ctx.airflowAuth).title} credentials)`
    : 'the VAULT_TOKEN in .env; --show-token prints it';
  const lines = [`# web UI: ${ui.url} (sign in with method Token and ${where})`];
  // The dev server's certificate is signed by a CA of its own: a browser warns until it trusts it.
  if (ui.url.startsWith('https:') && !ctx.settings.existing)
    lines.push(`# the browser trusts the UI once you import the sandbox's CA: ${ctx.paths.caFile}`);
  return { lines, ui: { url: ui.url, sign_in: SIGN_IN } };
}

async function nextSteps(ctx: FlowContext) {
  const web = await webUi(ctx);
  const dirDefault = ctx.paths.dir === findSandboxDir(undefined);
  const cmdDir = dirDefault ? '' : ` ${pathFor(ctx.paths.dir)}`;
  const self = selfCommand();
  const nextSteps = [
    ...airflowSource(ctx),
    `set -a; . ${pathFor(ctx.paths.env)}; set +a    # load the sandbox env into this shell`,
    ...airflowCommands(ctx),
    ...web.lines,
    `${self} status${cmdDir}    # is the server up`,
    `${self} down${cmdDir}      # stop it; 'up' starts and re-seeds it`,
  ];
  return { nextSteps, ui: web.ui };
}

export const nextStepsStep = defineStep({ title: 'Next steps', needs: [], run: nextSteps });
