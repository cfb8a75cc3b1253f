/**
 * `secrets-sandbox.yaml`: the sandbox's settings and connections, the source of truth for reruns
 * and `up`. Versioned; validated with line:column in every error; never holds the server's token.
 */
import { MAX_CONFIG_BYTES, readInputFile } from './validate/input-file.js';
import { yamlToData } from './validate/yaml.js';
import { UsageError } from './errors.js';
import type { AirflowVersion } from './airflow/backend.js';
import { AIRFLOW_VERSIONS } from './airflow/backend.js';

export const CONFIG_VERSION = 1;

export type CheckLevel = 'auto' | 'vault' | 'airflow' | 'dag' | 'none';
export const CHECK_LEVELS: readonly CheckLevel[] = ['auto', 'vault', 'airflow', 'dag', 'none'];
export type StorageFormat = 'uri' | 'fields';
export const STORAGE_FORMATS: readonly StorageFormat[] = ['uri', 'fields'];

/** Everything a config file may say; every field optional (flags and defaults fill the rest). */
export interface ConfigFile {
  server?: { bin?: string; address?: string };
  vault?: { mount?: string; connections_path?: string; variables_path?: string; kv_version?: 1 | 2 };
  airflow?: { version?: AirflowVersion; dags_dir?: string; example_dag?: boolean; format?: StorageFormat; check?: CheckLevel };
  connections?: Record<string, string>;
  variables?: Record<string, string>;
}

type Yaml = typeof import('yaml');

/** yaml is CommonJS: bundled, a dynamic import hands back its exports under `default`. */
export async function loadYaml(): Promise<Yaml> {
  const mod = (await import('yaml')) as Yaml & { default?: Yaml };
  return mod.default ?? mod;
}

interface Located {
  where(path: (string | number)[]): string;
}

function locator(yaml: Yaml, doc: import('yaml').Document, lc: import('yaml').LineCounter, file: string): Located {
  return {
    where(path) {
      // Point at the key when there is one: that is where the reader's eye goes.
      const parent = path.length ? (doc.getIn(path.slice(0, -1), true) as unknown) : undefined;
      let offset: number | undefined;
      if (yaml.isMap(parent)) {
        const pair = parent.items.find((p) => yaml.isScalar(p.key) && p.key.value === path[path.length - 1]);
        offset = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
      }
      if (offset === undefined) offset = (doc.getIn(path, true) as { range?: [number, number, number] } | undefined)?.range?.[0];
      if (offset === undefined) return file;
      const { line, col } = lc.linePos(offset);
      return `${file}:${line}:${col}`;
    },
  };
}

export async function loadConfig(file: string, label = file): Promise<ConfigFile> {
  const text = readInputFile(file, { label: `config file '${label}'`, fix: 'check the path given to --config', maxBytes: MAX_CONFIG_BYTES });
  return parseConfig(text, label);
}

export async function parseConfig(text: string, label: string): Promise<ConfigFile> {
  const yaml = await loadYaml();
  const lc = new yaml.LineCounter();
  let doc: import('yaml').Document;
  try {
    doc = yaml.parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    // Deeply nested input overflows the stack as a RangeError, not a YAMLParseError (deps.md §5).
    throw new UsageError(`${label}: not valid YAML (${(e as Error).message.split('\n')[0]}); fix the file or remove it`);
  }
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const at = pos ? `${label}:${pos.line}:${pos.col}` : label;
    throw new UsageError(`${at}: not valid YAML: ${first.message.split('\n')[0]}; fix the file or remove it`);
  }
  const loc = locator(yaml, doc, lc, label);
  const raw: unknown = yamlToData(doc, label);
  if (raw === null || raw === undefined) return {};
  const bad = (path: (string | number)[], what: string): never => {
    throw new UsageError(`${loc.where(path)}: ${path.join('.')} ${what}`);
  };
  if (!isRecord(raw)) bad([], 'the file must be a mapping of settings (see README: secrets-sandbox.yaml)');
  const root = raw as Record<string, unknown>;
  allowKeys(root, ['version', 'server', 'vault', 'airflow', 'connections', 'variables'], [], bad);
  if (root.version !== undefined && root.version !== CONFIG_VERSION) {
    bad(['version'], `is ${JSON.stringify(root.version)}; this tool reads version ${CONFIG_VERSION}`);
  }
  const out: ConfigFile = {};
  const section = (name: string): Record<string, unknown> | undefined => {
    const v = root[name];
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) bad([name], 'must be a mapping');
    return v as Record<string, unknown>;
  };
  const str = (s: Record<string, unknown>, path: string[], key: string): string | undefined => {
    const v = s[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') bad([...path, key], `must be a string, not ${typeOf(v)}`);
    return String(v);
  };
  const server = section('server');
  if (server) {
    allowKeys(server, ['bin', 'address'], ['server'], bad);
    out.server = { bin: str(server, ['server'], 'bin'), address: str(server, ['server'], 'address') };
  }
  const vault = section('vault');
  if (vault) {
    allowKeys(vault, ['mount', 'connections_path', 'variables_path', 'kv_version'], ['vault'], bad);
    const kv = vault.kv_version;
    if (kv !== undefined && kv !== 1 && kv !== 2) bad(['vault', 'kv_version'], `is ${JSON.stringify(kv)}; write 1 or 2`);
    out.vault = {
      mount: str(vault, ['vault'], 'mount'),
      connections_path: str(vault, ['vault'], 'connections_path'),
      variables_path: str(vault, ['vault'], 'variables_path'),
      kv_version: kv as 1 | 2 | undefined,
    };
  }
  const airflow = section('airflow');
  if (airflow) {
    allowKeys(airflow, ['version', 'dags_dir', 'example_dag', 'format', 'check'], ['airflow'], bad);
    const version = str(airflow, ['airflow'], 'version');
    if (version !== undefined && !(AIRFLOW_VERSIONS as readonly string[]).includes(version) && version !== 'auto') {
      bad(['airflow', 'version'], `is '${version}'; write one of ${AIRFLOW_VERSIONS.join(', ')} (quote it: "3")`);
    }
    const format = str(airflow, ['airflow'], 'format');
    if (format !== undefined && !(STORAGE_FORMATS as readonly string[]).includes(format)) bad(['airflow', 'format'], `is '${format}'; write uri or fields`);
    const check = str(airflow, ['airflow'], 'check');
    if (check !== undefined && !(CHECK_LEVELS as readonly string[]).includes(check)) bad(['airflow', 'check'], `is '${check}'; write one of ${CHECK_LEVELS.join(', ')}`);
    const dag = airflow.example_dag;
    if (dag !== undefined && dag !== null && typeof dag !== 'boolean') bad(['airflow', 'example_dag'], `must be true or false, not ${typeOf(dag)}`);
    out.airflow = {
      version: version === 'auto' ? undefined : (version as AirflowVersion | undefined),
      dags_dir: str(airflow, ['airflow'], 'dags_dir'),
      example_dag: (dag ?? undefined) as boolean | undefined,
      format: format as StorageFormat | undefined,
      check: check as CheckLevel | undefined,
    };
  }
  for (const name of ['connections', 'variables'] as const) {
    const s = section(name);
    if (!s) continue;
    const map: Record<string, string> = {};
    for (const [k, v] of Object.entries(s)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        bad([name, k], name === 'connections' ? `must be a connection URI string, not ${typeOf(v)}` : `must be a string value, not ${typeOf(v)}`);
      }
      map[k] = String(v);
    }
    out[name] = map;
  }
  return out;
}

function allowKeys(obj: Record<string, unknown>, allowed: string[], path: string[], bad: (p: (string | number)[], what: string) => never): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) bad([...path, k], `is not a setting; known here: ${allowed.join(', ')}`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

export interface RenderableConfig {
  server: { bin?: string; address: string };
  vault: { mount: string; connections_path: string; variables_path: string; kv_version: 1 | 2 };
  airflow: { version: AirflowVersion | 'auto'; dags_dir: string; example_dag: boolean; format: StorageFormat; check: CheckLevel };
  connections: Record<string, string>;
  variables: Record<string, string>;
}

export async function renderConfig(c: RenderableConfig): Promise<string> {
  const yaml = await loadYaml();
  const body = yaml.stringify(
    { version: CONFIG_VERSION, ...c, server: c.server.bin ? c.server : { address: c.server.address } },
    { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' },
  );
  return (
    '# create-secrets-sandbox settings: the source of truth for reruns and `up`.\n' +
    '# Edit freely; rerun `create-secrets-sandbox <dir>` (or `up`) to apply. The server token is never stored here.\n' +
    '# Connection URIs may hold passwords: this file is private (0600).\n' +
    body
  );
}
