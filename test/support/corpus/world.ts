/**
 * One generated set-up, materialized: a Vault server (started by the tool or by hand), the sandbox
 * dir with its .env, secrets-sandbox.yaml and airflow.cfg, the user's shell, and what each
 * connection and variable is MEANT to resolve to. Operators (operators.ts) edit it the way a user
 * would; `write()` puts the edited files on disk. Vault state is changed at once, over HTTP.
 *
 * Where a setting lives is part of the set-up (the .env, the shell, airflow.cfg, a _CMD, a per-key
 * variable); operators read and write a setting through `kwargs()`/`setKwargs()` and
 * `backendClass()`/`setBackendClass()` without knowing where it is, so "where" and "what" compose.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Link } from '../../../src/doctor/types.js';
import { vaultCall, vaultOk, type VaultReply, type VaultTarget } from './vault-http.js';

export type Major = '3' | '2';
export const PROVIDER = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
export const CONTRIB = 'airflow.contrib.secrets.hashicorp_vault.VaultBackend';
export const KWARGS = 'AIRFLOW__SECRETS__BACKEND_KWARGS';
export const BACKEND = 'AIRFLOW__SECRETS__BACKEND';

/** How a .env line spells its value for bash. `raw` lines are written exactly as given. */
export type Quote = 'single' | 'double' | 'bare' | 'export';

export interface EnvEntry {
  key: string;
  value: string;
  quote: Quote;
  /** The line exactly as written (a `$VAR` or `$(...)` the user typed): bash decides the value. */
  raw?: string;
}

/** A connection as the user means it: what Airflow must resolve, field by field. */
export interface ConnIntent {
  conn_type: string;
  host: string | null;
  login: string | null;
  password: string | null;
  port: number | null;
  schema: string | null;
  extra: Record<string, unknown> | null;
}

export interface ConnSeed {
  id: string;
  intent: ConnIntent;
  /** The URI the user gave (secrets-sandbox.yaml, --conn). */
  uri: string;
}

export interface VarSeed {
  key: string;
  value: string;
}

/** Where a setting is read from. */
export type KwargsPlace = 'env' | 'shell' | 'cfg' | 'env-cmd' | 'cfg-cmd' | 'none';
export type ClassPlace = 'env' | 'shell' | 'cfg' | 'none';

export interface ServerInfo {
  url: string;
  port: number;
  /** The root token. */
  token: string;
  pid: number;
  /** Who started it: `tool` (create/up, stopped by down) or `harness` (by hand, like a user following a guide). */
  by: 'tool' | 'harness';
  caFile?: string;
  ca?: string;
  /** The flags the harness started it with, to start it again the same way. */
  args?: string[];
}

/** Where the set-up's secrets were seeded (operators that rewrite a secret write it there). */
export interface Store {
  mount: string;
  version: 1 | 2;
  namespace?: string;
  connectionsPath: string;
  variablesPath: string;
}

/**
 * What the operators may ask about a set-up before they change it. Pure data, simulated before
 * anything is built (operators.ts `facts`), so a sample's operators and known causes are known
 * without a server.
 */
export interface Facts {
  major: Major;
  base: 'tool' | 'manual';
  auth: 'token' | 'approle' | 'userpass';
  /** Token auth: where Airflow gets the token. */
  tokenVia: 'kwargs' | 'env' | 'token_path' | 'per-key';
  format: 'uri' | 'fields';
  kv: 1 | 2;
  tls: boolean;
  /** The token Airflow uses is the root token (so no policy is in play). */
  rootToken: boolean;
  /** url is in the kwargs JSON (else per-key, or hvac reads VAULT_ADDR). */
  urlInKwargs: boolean;
  namespace: boolean;
  mount: string;
  hasVar: boolean;
  /** The sandbox .env holds VAULT_ADDR / VAULT_TOKEN / VAULT_CACERT (fallbacks hvac and the provider read). */
  vaultAddrInEnv: boolean;
  vaultTokenInEnv: boolean;
  caInEnv: boolean;
  /** The connections and variables live where VaultBackend looks by default (mount secret, KV v2, paths connections and variables, no namespace). */
  defaultPaths: boolean;
  kwargsPlace: KwargsPlace;
  classPlace: ClassPlace;
  /**
   * No breaking operator may follow: no id is read from Vault (the environment answers), or the
   * set-up is about what doctor's own run does to it (a token with limited uses).
   */
  alone?: boolean;
  /** The .env was edited by hand (the tool keeps an edited .env on `up` unless --force). */
  envEdited: boolean;
  /** Operators applied so far. */
  applied: string[];
}

/** The result a set-up is built to have: works, or broken at one link by one operator. */
export interface KnownCause {
  op: string;
  link: Link;
}

export class World {
  env: EnvEntry[] = [];
  /** Lines of the .env that are not entries (comments), kept in place at the top. */
  envHead: string[] = [];
  eol: '\n' | '\r\n' = '\n';
  envDirty = false;
  /** The user's shell before the .env is sourced (both Airflow and doctor start from it). */
  shell: Record<string, string> = {};
  /** airflow.cfg sections: key -> the text after `=`, as written (so `%` is the author's business). */
  cfg: Record<string, Record<string, string>> = {};
  files = new Map<string, { text: string; mode: number }>();
  conns: ConnSeed[] = [];
  vars: VarSeed[] = [];
  kwargsPlace: KwargsPlace = 'env';
  classPlace: ClassPlace = 'env';
  /** secrets-sandbox.yaml is the harness's to write (hand-made set-ups; the tool writes its own). */
  writeYaml = false;
  /** More of a hand-written secrets-sandbox.yaml (top-level sections after the ids). */
  yamlExtra = '';
  /** The user's shell for doctor is the shell after sourcing .env (else a fresh one). */
  doctorSourced = false;
  /** Where Airflow's token is written (token operators move it); the kwargs by default. */
  tokenSink: (token: string) => void = (token) => this.editKwargs((kw) => (kw.token = token));
  /** Ran by the user's shell before Airflow and doctor (e.g. `airflow db migrate` for a metastore row). */
  airflowPrep: string[][] = [];
  /** Set-ups whose Vault state a doctor run could change (a token with limited uses): Airflow judges again after doctor. */
  consumable = false;
  /** The kwargs JSON an operator took away (moved to where Airflow cannot read it): what the user meant. */
  meantKwargs?: string;
  /** The credentials the user of a hand-made set-up holds: the userpass password and the AppRole they set up. */
  knows: { password?: string; roleId?: string; approleMount?: string } = {};

  constructor(
    readonly major: Major,
    readonly n: number,
    /** The workspace dir every process of this set-up runs under. */
    readonly root: string,
    /** The sandbox dir. */
    readonly dir: string,
    /** AIRFLOW_HOME: fresh per set-up. */
    readonly home: string,
    public server: ServerInfo,
    public store: Store,
  ) {}

  /** The API path of a secret under the store: `<mount>/data/<path>/<id>` on KV v2. */
  secretPath(kind: 'conn' | 'var', id: string): string {
    const base = kind === 'conn' ? this.store.connectionsPath : this.store.variablesPath;
    const rel = [base, id].filter(Boolean).join('/');
    return this.store.version === 2 ? `${this.store.mount}/data/${rel}` : `${this.store.mount}/${rel}`;
  }

  /** Writes a secret as `bao kv put` would (KV v2 wraps it in data). */
  async putSecret(kind: 'conn' | 'var', id: string, data: Record<string, unknown>): Promise<void> {
    const body = this.store.version === 2 ? { data } : data;
    await this.vault('POST', this.secretPath(kind, id), body, { namespace: this.store.namespace });
  }

  async deleteSecret(kind: 'conn' | 'var', id: string): Promise<void> {
    const path = this.secretPath(kind, id);
    const meta = this.store.version === 2 ? path.replace(/^([^/]+)\/data\//, '$1/metadata/') : path;
    await this.vault('DELETE', meta, undefined, { namespace: this.store.namespace });
  }

  get target(): VaultTarget {
    return { url: this.server.url, token: this.server.token, ca: this.server.ca };
  }

  /** A Vault request with the root token (or opts.token) that must succeed. */
  vault(method: string, path: string, body?: unknown, opts?: { token?: string; namespace?: string }) {
    return vaultOk(this.target, method, path, body, opts);
  }

  vaultRaw(
    method: string,
    path: string,
    body?: unknown,
    opts?: { token?: string; namespace?: string },
  ): Promise<VaultReply> {
    return vaultCall(this.target, method, path, body, opts);
  }

  // --- the .env -------------------------------------------------------------------------------

  envEntry(key: string): EnvEntry | undefined {
    return this.env.find((e) => e.key === key);
  }

  envValue(key: string): string | undefined {
    return this.envEntry(key)?.value;
  }

  setEnv(key: string, value: string, raw?: string): void {
    const e = this.envEntry(key);
    if (e) {
      e.value = value;
      e.raw = raw;
    } else this.env.push({ key, value, quote: this.env[0]?.quote ?? 'single', raw });
    this.envDirty = true;
  }

  unsetEnv(key: string): void {
    const before = this.env.length;
    this.env = this.env.filter((e) => e.key !== key);
    if (this.env.length !== before) this.envDirty = true;
  }

  // --- the backend kwargs, wherever they live ---------------------------------------------------

  private kwargsFile(): string {
    return join(this.dir, 'kwargs.json');
  }

  /** The kwargs text where Airflow reads it (undefined: not set). */
  kwargsText(): string | undefined {
    switch (this.kwargsPlace) {
      case 'env':
        return this.envValue(KWARGS);
      case 'shell':
        return this.shell[KWARGS];
      case 'cfg':
        return this.cfg.secrets?.backend_kwargs?.replace(/%%/g, '%');
      case 'env-cmd':
      case 'cfg-cmd':
        return this.files.get(this.kwargsFile())?.text;
      case 'none':
        return undefined;
    }
  }

  setKwargsText(text: string): void {
    switch (this.kwargsPlace) {
      case 'env':
        this.setEnv(KWARGS, text);
        return;
      case 'shell':
        this.shell[KWARGS] = text;
        return;
      case 'cfg':
        this.cfgSet('secrets', 'backend_kwargs', text.replace(/%/g, '%%'));
        return;
      case 'env-cmd':
      case 'cfg-cmd':
        this.files.set(this.kwargsFile(), { text, mode: 0o600 });
        return;
      case 'none':
        this.kwargsPlace = 'env';
        this.setEnv(KWARGS, text);
    }
  }

  /** The kwargs as an object (they are JSON until an operator breaks them). */
  kwargs(): Record<string, unknown> {
    const text = this.kwargsText();
    return text === undefined ? {} : (JSON.parse(text) as Record<string, unknown>);
  }

  setKwargs(obj: Record<string, unknown>): void {
    this.setKwargsText(JSON.stringify(obj));
  }

  editKwargs(f: (kw: Record<string, unknown>) => void): void {
    const kw = this.kwargs();
    f(kw);
    this.setKwargs(kw);
  }

  /** Moves the kwargs text to another place, exactly as it is. */
  moveKwargs(to: KwargsPlace): void {
    const text = this.kwargsText();
    if (this.kwargsPlace === 'env') this.unsetEnv(KWARGS);
    if (this.kwargsPlace === 'shell') delete this.shell[KWARGS];
    if (this.kwargsPlace === 'cfg') delete this.cfg.secrets?.backend_kwargs;
    this.kwargsPlace = to;
    if (to === 'none' && text !== undefined) this.meantKwargs = text;
    if (to === 'env-cmd') this.setEnv(`${KWARGS}_CMD`, `cat ${this.kwargsFile()}`);
    if (to === 'cfg-cmd') this.cfgSet('secrets', 'backend_kwargs_cmd', `cat ${this.kwargsFile()}`);
    if (text !== undefined && to !== 'none') this.setKwargsText(text);
  }

  // --- the backend class ----------------------------------------------------------------------

  backendClass(): string | undefined {
    if (this.classPlace === 'env') return this.envValue(BACKEND);
    if (this.classPlace === 'shell') return this.shell[BACKEND];
    if (this.classPlace === 'cfg') return this.cfg.secrets?.backend;
    return undefined;
  }

  setBackendClass(value: string): void {
    if (this.classPlace === 'shell') this.shell[BACKEND] = value;
    else if (this.classPlace === 'cfg') this.cfgSet('secrets', 'backend', value);
    else {
      this.classPlace = 'env';
      this.setEnv(BACKEND, value);
    }
  }

  moveBackendClass(to: ClassPlace): void {
    const value = this.backendClass();
    if (this.classPlace === 'env') this.unsetEnv(BACKEND);
    if (this.classPlace === 'shell') delete this.shell[BACKEND];
    if (this.classPlace === 'cfg') delete this.cfg.secrets?.backend;
    this.classPlace = to;
    if (value !== undefined && to !== 'none') this.setBackendClass(value);
  }

  cfgSet(section: string, key: string, value: string): void {
    this.cfg[section] ??= {};
    this.cfg[section][key] = value;
  }

  // --- on disk --------------------------------------------------------------------------------

  /** The .env as a user would have written it. */
  renderEnv(): string {
    const lines = [...this.envHead, ...this.env.map(envLine)];
    return lines.join(this.eol) + this.eol;
  }

  renderYaml(): string {
    return (
      [
        'version: 1',
        'connections:',
        ...this.conns.map((c) => `  ${c.id}: ${JSON.stringify(c.uri)}`),
        ...(this.vars.length ? ['variables:', ...this.vars.map((v) => `  ${v.key}: ${JSON.stringify(v.value)}`)] : []),
        '',
      ].join('\n') + this.yamlExtra
    );
  }

  renderCfg(): string {
    return Object.entries(this.cfg)
      .map(
        ([s, kv]) =>
          `[${s}]\n${Object.entries(kv)
            .map(([k, v]) => `${k} = ${v}\n`)
            .join('')}`,
      )
      .join('\n');
  }

  /** Writes what the operators changed: the .env (only when edited: the tool's own file stays as written), airflow.cfg, other files. */
  write(): void {
    for (const [path, f] of this.files) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.text, { mode: f.mode });
    }
    if (this.envDirty) writeFileSync(join(this.dir, '.env'), this.renderEnv(), { mode: 0o600 });
    if (Object.keys(this.cfg).length > 0) writeFileSync(join(this.home, 'airflow.cfg'), this.renderCfg());
    if (this.writeYaml) writeFileSync(join(this.dir, 'secrets-sandbox.yaml'), this.renderYaml(), { mode: 0o600 });
  }
}

/** A .env line: the value quoted so that bash gives back exactly `value`. */
export function envLine(e: EnvEntry): string {
  if (e.raw !== undefined) return e.raw;
  const single = `'${e.value.replace(/'/g, `'\\''`)}'`;
  if (e.quote === 'double') return `${e.key}="${e.value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
  if (e.quote === 'bare') return `${e.key}=${e.value.replace(/[^A-Za-z0-9_./:,@%+=-]/g, (c) => `\\${c}`)}`;
  if (e.quote === 'export') return `export ${e.key}=${single}`;
  return `${e.key}=${single}`;
}
