/**
 * `secrets-sandbox.yaml`: what the user said (flags, wizard answers, their own edits), the source of
 * truth for reruns and `up`. Parsed and edited by the rows of the settings schema; edits go through
 * the yaml Document API so the user's comments and key order survive. Never holds the token, nor
 * what a run found (port bound, binary, Airflow): those are facts in `.sandbox/state.json`.
 */
import { existsSync } from 'node:fs';
import { formatBytes, MAX_CONFIG_BYTES, readUserFile } from './io/read.js';
import { loadYaml, parseYamlDocument, yamlToData } from './io/parse.js';
import { writtenValues } from './config-values.js';
import { UsageError } from './errors.js';
import { CONFIG_FILE, STATE_DIR, STATE_FILE } from './sandbox/names.js';
import type { AirflowVersion } from './airflow/backend/index.js';
import { SETTINGS, type SettingKey, type SettingRow } from './settings/schema.js';
import type { Layer } from './settings/merge.js';
import type { AuthMethodName } from './vault/auth/index.js';

export const CONFIG_VERSION = 1;

/** The levels of the final check: the choices of the schema's `check` row (the wizard offers the same). */
export type CheckLevel = Extract<(typeof SETTINGS)[number], { key: 'check' }>['choices'][number];
export type StorageFormat = 'uri' | 'fields';
export const STORAGE_FORMATS: readonly StorageFormat[] = ['uri', 'fields'];

/** Everything a config file may say; every field optional (flags and defaults fill the rest). */
export interface ConfigFile {
  server?: { bin?: string; address?: string; allow_remote?: boolean; tls?: boolean };
  vault?: {
    mount?: string;
    connections_path?: string;
    variables_path?: string;
    kv_version?: 1 | 2;
    auth?: AuthMethodName;
    secret_id_ttl?: string;
    url?: string;
    ca_cert?: string;
    namespace?: string;
    token_file?: string;
  };
  airflow?: {
    version?: AirflowVersion;
    bin?: string;
    dags_dir?: string;
    example_dag?: boolean;
    format?: StorageFormat;
    check?: CheckLevel;
  };
  connections?: Record<string, string>;
  variables?: Record<string, string>;
}

type Yaml = typeof import('yaml');

export { loadYaml };

const CONFIG_ROWS = (SETTINGS as readonly SettingRow[]).filter((r) => r.config !== undefined);

/** Top-level keys and, per section, the keys it may hold: all from the schema. */
function layout(): Map<string, string[] | null> {
  const m = new Map<string, string[] | null>([['version', null]]);
  for (const r of CONFIG_ROWS) {
    const [head = '', leaf] = (r.config ?? '').split('.');
    if (leaf === undefined) m.set(head, null);
    else m.set(head, [...(m.get(head) ?? []), leaf]);
  }
  return m;
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
      if (offset === undefined)
        offset = (doc.getIn(path, true) as { range?: [number, number, number] } | undefined)?.range?.[0];
      if (offset === undefined) return file;
      const { line, col } = lc.linePos(offset);
      return `${file}:${line}:${col}`;
    },
  };
}

export async function loadConfig(file: string, label = file): Promise<ConfigFile> {
  return parseConfig(readConfigText(file, label), label);
}

/** Only a regular file under the cap, never blocking on a FIFO (src/io/read.ts). */
export function readConfigText(file: string, label = file): string {
  return readUserFile(file, {
    what: 'config file',
    shownAs: label,
    fix: 'check the path given to --config',
    maxBytes: MAX_CONFIG_BYTES,
  });
}

const CONFIG_FIX = 'fix the file or remove it';

function parseDoc(text: string, label: string) {
  return parseYamlDocument(text, label, CONFIG_FIX);
}

export async function parseConfig(text: string, label: string): Promise<ConfigFile> {
  const parsed = await parseDoc(text, label);
  const { yaml, doc, lc } = parsed;
  const loc = locator(yaml, doc, lc, label);
  const raw: unknown = yamlToData(parsed, label, CONFIG_FIX);
  if (raw === null || raw === undefined) return {};
  const bad = (path: (string | number)[], what: string): never => {
    throw new UsageError(`${loc.where(path)}: ${path.join('.')} ${what}`);
  };
  if (!isRecord(raw)) bad([], `the file must be a mapping of settings (see README: ${CONFIG_FILE})`);
  const root = raw as Record<string, unknown>;
  const shape = layout();
  allowKeys(root, [...shape.keys()], [], bad);
  if (root.version !== undefined && root.version !== CONFIG_VERSION) {
    bad(['version'], `is ${JSON.stringify(root.version)}; this tool reads version ${CONFIG_VERSION}`);
  }
  const written = writtenValues({ yaml, doc, lc }, label);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, keys] of shape) {
    if (name === 'version') continue;
    const v = root[name];
    if (v === undefined || v === null) continue;
    if (!isRecord(v)) bad([name], 'must be a mapping');
    const sec = v as Record<string, unknown>;
    if (keys === null) {
      // connections / variables: id -> the value exactly as written (src/config-values.ts).
      out[name] = name === 'connections' ? written.connections(name) : written.variables(name);
      continue;
    }
    allowKeys(sec, keys, [name], bad);
    const section: Record<string, unknown> = {};
    out[name] = section;
    for (const leaf of keys) {
      const r = CONFIG_ROWS.find((x) => x.config === `${name}.${leaf}`);
      const val = sec[leaf];
      if (r === undefined || val === undefined || val === null) continue;
      section[leaf] = typedValue(r, val, written.text([name, leaf]), [name, leaf], bad);
    }
  }
  const cfg = out as ConfigFile;
  // `auto` in the file is the same as not saying a version.
  if (cfg.airflow?.version === ('auto' as AirflowVersion)) delete cfg.airflow.version;
  return cfg;
}

function typedValue(
  r: SettingRow,
  val: unknown,
  /** The scalar's text as written (`1.10`, `012`), when it is one YAML would not read as a string. */
  asWritten: string | undefined,
  path: string[],
  bad: (p: (string | number)[], what: string) => never,
): unknown {
  if (r.type === 'boolean') {
    if (typeof val !== 'boolean') bad(path, `must be true or false, not ${typeOf(val)}`);
    return val;
  }
  if (r.type === 'number') {
    if (r.choices && !r.choices.includes(String(val)))
      bad(path, `is ${JSON.stringify(val)}; write ${r.choices.join(' or ')}`);
    if (typeof val !== 'number') bad(path, `is ${JSON.stringify(val)}; write ${r.choices?.join(' or ') ?? 'a number'}`);
    return val;
  }
  if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean')
    bad(path, `must be a string, not ${typeOf(val)}`);
  const s = typeof val === 'string' ? val : (asWritten ?? String(val));
  if (r.choices && !r.choices.includes(s)) bad(path, `is '${s}'; write one of ${r.choices.join(', ')}`);
  return s;
}

/** The config as a merge layer: each schema row's value, by key. */
export function configLayer(cfg: ConfigFile): Layer {
  const layer: Layer = {};
  for (const r of CONFIG_ROWS) {
    const [head, leaf] = (r.config ?? '').split('.') as [keyof ConfigFile, string | undefined];
    const sec = cfg[head] as Record<string, unknown> | undefined;
    if (!sec) continue;
    if (leaf === undefined) layer[r.key as SettingKey] = Object.entries(sec).map(([k, v]) => [k, String(v)] as const);
    else if (sec[leaf] !== undefined) layer[r.key as SettingKey] = sec[leaf];
  }
  return layer;
}

function allowKeys(
  obj: Record<string, unknown>,
  allowed: string[],
  path: string[],
  bad: (p: (string | number)[], what: string) => never,
): void {
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

/** One thing the user said that belongs in the file: a dotted schema path, or an entry of a list section. */
export interface ConfigEdit {
  path: string[];
  /** null removes the key (a connection or variable the user chose to drop). */
  value: string | number | boolean | null;
}

export const CONFIG_HEADER =
  '# create-secrets-sandbox settings: what you asked for, the source of truth for reruns and `up`.\n' +
  '# Edit freely (comments and order are kept); rerun `create-secrets-sandbox <dir>` or `up` to apply.\n' +
  '# Unset settings take their defaults (see --help). What a run found (the port it bound, the server\n' +
  `# binary, the Airflow) lives in ${STATE_DIR}/${STATE_FILE}. The server token is never stored here.\n` +
  '# Connection URIs may hold passwords: this file is private (0600).\n' +
  '#\n' +
  '# connections:\n' +
  '#   my_postgres: postgres://user:pass@localhost:5432/db\n';

/**
 * Applies `edits` to the config text (null: a new file), keeping everything else byte for byte
 * where the yaml library allows (comments, order, quoting of untouched values). Returns the new
 * text, or null when the file already says all of it.
 */
export async function editConfig(
  text: string | null,
  edits: ConfigEdit[],
  label = CONFIG_FILE,
): Promise<string | null> {
  const { doc, changed } = await applyEdits(text, edits, label);
  if (!changed) return null;
  const out = doc.toString({ lineWidth: 0 });
  // What the tool writes it must read back: never a config over the cap of the config reader.
  const bytes = Buffer.byteLength(out);
  if (bytes > MAX_CONFIG_BYTES) throw new UsageError(configTooLarge(label, bytes));
  return out;
}

function configTooLarge(label: string, bytes: number): string {
  return `${label} would grow to ${formatBytes(bytes)}, over the ${formatBytes(MAX_CONFIG_BYTES)} this tool reads back; import fewer connections at once, or use another --config`;
}

/**
 * Refuses (UsageError), before anything starts, edits that would grow the config past what this
 * tool reads back. Rendering 100,000 entries is felt, so only input that could come near the cap
 * is rendered: YAML writes a value at most four times its bytes (a control character as \xNN).
 */
export async function assertConfigFits(
  file: string,
  label: string,
  edits: ConfigEdit[],
  inputBytes: number,
): Promise<void> {
  const text = existsSync(file) ? readConfigText(file, label) : null;
  if (4 * (inputBytes + Buffer.byteLength(text ?? '')) <= MAX_CONFIG_BYTES) return;
  await editConfig(text, edits, label);
}

/**
 * Whether `edits` would change the config text, without writing the new text out: a dry run only
 * says "updated" or "unchanged", and printing 100,000 imported connections as YAML is felt.
 */
export async function configWouldChange(
  text: string | null,
  edits: ConfigEdit[],
  label = CONFIG_FILE,
): Promise<boolean> {
  return (await applyEdits(text, edits, label)).changed;
}

async function applyEdits(
  text: string | null,
  edits: ConfigEdit[],
  label: string,
): Promise<{ doc: import('yaml').Document; changed: boolean }> {
  const fresh = text === null || text.trim() === '';
  const { yaml, doc } = await parseDoc(fresh ? `${CONFIG_HEADER}version: ${CONFIG_VERSION}\n` : text, label);
  let changed = fresh;
  // Grouped by parent map, each indexed once: linear, so 100,000 imported connections are one pass, not n².
  const groups = new Map<string, { parent: string[]; edits: ConfigEdit[] }>();
  for (const e of edits) {
    const parent = e.path.slice(0, -1);
    const k = JSON.stringify(parent);
    const g = groups.get(k) ?? { parent, edits: [] };
    g.edits.push(e);
    groups.set(k, g);
  }
  for (const { parent, edits: group } of groups.values()) {
    let map = parent.length ? doc.getIn(parent, true) : doc.contents;
    if (!yaml.isMap(map)) {
      // Absent, or `connections:` with nothing under it: a block mapping of its own.
      const node = doc.createNode({});
      if (parent.length) doc.setIn(parent, node);
      else doc.contents = node as never;
      map = node;
    }
    const m = map as import('yaml').YAMLMap;
    const index = new Map<string, import('yaml').Pair>();
    for (const pair of m.items)
      index.set(String(yaml.isScalar(pair.key) ? pair.key.value : pair.key), pair as import('yaml').Pair);
    for (const e of group) {
      const leaf = e.path[e.path.length - 1] ?? '';
      const pair = index.get(leaf);
      if (e.value === null) {
        if (pair) {
          m.items.splice(m.items.indexOf(pair), 1);
          index.delete(leaf);
          changed = true;
        }
        continue;
      }
      const current = pair && yaml.isScalar(pair.value) ? pair.value.value : undefined;
      if (
        pair &&
        current !== undefined &&
        current !== null &&
        typeof current === typeof e.value &&
        String(current) === String(e.value)
      )
        continue;
      const node = doc.createNode(e.value) as import('yaml').Scalar;
      // A version like 3 must stay a string: YAML would read 1.10 as 1.1.
      if (typeof e.value === 'string' && /^[\d.]+$/.test(e.value)) node.type = 'QUOTE_DOUBLE';
      if (pair) {
        // Keep the user's trailing comment on the line whose value changes.
        if (yaml.isScalar(pair.value)) node.comment = pair.value.comment;
        pair.value = node;
      } else {
        const added = doc.createPair(leaf, node) as import('yaml').Pair;
        m.items.push(added);
        index.set(leaf, added);
      }
      changed = true;
    }
  }
  return { doc, changed };
}
