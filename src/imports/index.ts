/**
 * --import FILE: the JSON, YAML and env outputs of `airflow connections export` (and `airflow
 * variables export` JSON), AIRFLOW_CONN_* / AIRFLOW_VAR_* lines from an env file, and Astro's
 * airflow_settings.yaml. A file that cannot be read or recognised is bad input (exit 2); a single
 * entry that cannot be taken is skipped and reported with its reason.
 */
import { MAX_IMPORT_BYTES, readUserFile } from '../io/read.js';
import { parseJson, parseYamlDocument, yamlToData } from '../io/parse.js';
import { extname } from 'node:path';
import { UsageError } from '../errors.js';
import { isRecord } from '../config.js';
import { connIdProblem } from '../airflow/connection.js';
import type { ConnectionSpec, VariableSpec } from '../settings.js';
import { fromFields, fromUri, type ImportTarget } from './fields.js';
import { pyText } from '../airflow/spec.js';
import type { Imported, ImportNote } from './types.js';

export async function importFile(file: string, target: ImportTarget): Promise<Imported> {
  const text = readUserFile(file, {
    what: '--import',
    fix: 'name an export file',
    maxBytes: MAX_IMPORT_BYTES,
  });
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return fromJson(file, text, target);
  if (ext === '.yaml' || ext === '.yml') return fromYaml(file, text, target);
  return fromEnvLines(file, text, target);
}

/** Said after a parse error of an import: the file is the user's to fix, or the wrong one. */
const IMPORT_FIX = 'fix it, or give --import the file `airflow connections export` wrote';

function fromJson(file: string, text: string, target: ImportTarget): Imported {
  const data = parseJson(text, `--import ${file}`, IMPORT_FIX);
  return fromMapping(file, data, target, 'airflow export (json)');
}

async function fromYaml(file: string, text: string, target: ImportTarget): Promise<Imported> {
  const parsed = await parseYamlDocument(text, `--import ${file}`, IMPORT_FIX);
  const data: unknown = yamlToData(parsed, `--import ${file}`, IMPORT_FIX);
  if (isRecord(data) && isRecord(data.airflow)) return fromAstro(file, data.airflow, target);
  return fromMapping(file, data, target, 'airflow export (yaml)');
}

/** `{conn_id: {conn_type, host, ...}}` (connections export), or `{key: value}` (variables export). */
function fromMapping(file: string, data: unknown, target: ImportTarget, format: string): Imported {
  if (!isRecord(data) || Object.keys(data).length === 0) {
    throw new UsageError(
      `--import '${file}' holds no connections: expected the mapping \`airflow connections export\` writes ({"conn_id": {"conn_type": ...}})`,
    );
  }
  const out: Imported = { connections: [], variables: [], notes: [], format };
  // A connection is a mapping with connection fields; `variables export` values may be mappings too (JSON values).
  const CONN_KEYS = ['conn_type', 'conn_uri', 'description', 'host', 'login', 'password', 'schema', 'port', 'extra'];
  const looksLikeConnection = (v: unknown) => isRecord(v) && Object.keys(v).some((k) => CONN_KEYS.includes(k));
  if (!Object.values(data).some(looksLikeConnection)) {
    out.format = format.replace('airflow export', 'airflow variables export');
    for (const [key, value] of Object.entries(data))
      addVariable(out, file, key, typeof value === 'string' ? value : pyText(value));
    return out;
  }
  for (const [id, fields] of Object.entries(data)) {
    if (!isRecord(fields)) {
      out.notes.push({ file, item: id, action: 'skipped', reason: 'not a mapping of connection fields' });
      continue;
    }
    const c = fromFields(file, id, fields, target, out.notes);
    if (c) add(out, c, file);
  }
  return out;
}

/** Astro's airflow_settings.yaml: `airflow: {connections: [...], variables: [...], pools: [...]}` (anchors.md §1.2). */
function fromAstro(file: string, airflow: Record<string, unknown>, target: ImportTarget): Imported {
  const out: Imported = { connections: [], variables: [], notes: [], format: 'astro airflow_settings.yaml' };
  const list = (k: string): unknown[] => (Array.isArray(airflow[k]) ? (airflow[k] as unknown[]) : []);
  list('connections').forEach((raw, i) => {
    if (!isRecord(raw)) {
      out.notes.push({ file, item: `connections[${i}]`, action: 'skipped', reason: 'not a mapping' });
      return;
    }
    const id = raw.conn_id === undefined || raw.conn_id === null ? '' : String(raw.conn_id);
    if (!id) {
      out.notes.push({ file, item: `connections[${i}]`, action: 'skipped', reason: 'no conn_id' });
      return;
    }
    const c = fromFields(
      file,
      id,
      {
        conn_uri: raw.conn_uri,
        conn_type: raw.conn_type,
        host: raw.conn_host,
        login: raw.conn_login,
        password: raw.conn_password,
        schema: raw.conn_schema,
        port: raw.conn_port,
        extra: raw.conn_extra,
      },
      target,
      out.notes,
    );
    if (c) add(out, c, file);
  });
  list('variables').forEach((raw, i) => {
    if (!isRecord(raw) || raw.variable_name === undefined || raw.variable_name === null || raw.variable_name === '') {
      out.notes.push({ file, item: `variables[${i}]`, action: 'skipped', reason: 'no variable_name' });
      return;
    }
    const v = raw.variable_value;
    addVariable(
      out,
      file,
      String(raw.variable_name),
      v === null || v === undefined ? '' : typeof v === 'string' ? v : pyText(v),
    );
  });
  const pools = list('pools').filter((p) => isRecord(p) && p.pool_name);
  if (pools.length)
    out.notes.push({
      file,
      item: `${pools.length} pool(s)`,
      action: 'skipped',
      reason: 'pools live in the Airflow metastore, not in a secrets backend',
    });
  if (!out.connections.length && !out.variables.length && !out.notes.length) {
    throw new UsageError(`--import '${file}' has an 'airflow:' section with no connections or variables`);
  }
  return out;
}

/**
 * Env lines: `AIRFLOW_CONN_MY_PG=uri-or-json`, `AIRFLOW_VAR_X=value` (an env file), or
 * `my_pg=uri-or-json` (`airflow connections export --file-format env`).
 */
function fromEnvLines(file: string, text: string, target: ImportTarget): Imported {
  const out: Imported = { connections: [], variables: [], notes: [], format: 'env' };
  let recognised = 0;
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim().replace(/^export\s+/, '');
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      out.notes.push({ file, item: `line ${i + 1}`, action: 'skipped', reason: 'not KEY=VALUE' });
      return;
    }
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (/^'.*'$|^".*"$/.test(value)) value = value.slice(1, -1);
    if (key.startsWith('AIRFLOW_VAR_')) {
      recognised++;
      addVariable(out, file, key.slice('AIRFLOW_VAR_'.length).toLowerCase(), value);
      return;
    }
    const id = key.startsWith('AIRFLOW_CONN_') ? key.slice('AIRFLOW_CONN_'.length).toLowerCase() : key;
    if (
      !key.startsWith('AIRFLOW_CONN_') &&
      /^[A-Z0-9_]+$/.test(key) &&
      !value.includes('://') &&
      !value.startsWith('{')
    ) {
      out.notes.push({
        file,
        item: key,
        action: 'skipped',
        reason: 'not a connection (neither AIRFLOW_CONN_* nor a URI or JSON value)',
      });
      return;
    }
    recognised++;
    if (value.startsWith('{')) {
      let fields: unknown;
      try {
        fields = JSON.parse(value);
      } catch {
        out.notes.push({ file, item: id, action: 'skipped', reason: `line ${i + 1}: the JSON value does not parse` });
        return;
      }
      const c = isRecord(fields) ? fromFields(file, id, fields, target, out.notes) : null;
      if (c) add(out, c, file);
      return;
    }
    const c = fromUri(file, id, value, out.notes);
    if (c) add(out, c, file);
  });
  if (recognised === 0) {
    throw new UsageError(
      `--import '${file}' has no connections: expected AIRFLOW_CONN_<ID>=URI lines, or conn_id=URI lines from \`airflow connections export --file-format env\``,
    );
  }
  return out;
}

/** Position of each id in out.connections / key in out.variables: replacing by id stays linear. */
const connIndex = new WeakMap<Imported, Map<string, number>>();
const varIndex = new WeakMap<Imported, Map<string, number>>();
const indexOf = (w: WeakMap<Imported, Map<string, number>>, out: Imported) => {
  let m = w.get(out);
  if (!m) w.set(out, (m = new Map()));
  return m;
};

function add(out: Imported, c: ConnectionSpec, file: string): void {
  const idx = indexOf(connIndex, out);
  const i = idx.get(c.id);
  if (i !== undefined) {
    out.notes.push({ file, item: c.id, action: 'replaced', reason: 'given twice in this file; the later one is used' });
    out.connections[i] = c;
  } else {
    idx.set(c.id, out.connections.length);
    out.connections.push(c);
  }
}

function addVariable(out: Imported, file: string, key: string, value: string): void {
  const p = connIdProblem(key);
  if (p) {
    out.notes.push({ file, item: key, action: 'skipped', reason: `the variable key ${p}` });
    return;
  }
  const idx = indexOf(varIndex, out);
  const i = idx.get(key);
  if (i !== undefined) {
    out.notes.push({ file, item: key, action: 'replaced', reason: 'given twice in this file; the later one is used' });
    out.variables[i] = { key, value };
  } else {
    idx.set(key, out.variables.length);
    out.variables.push({ key, value });
  }
}

/**
 * Merge several imports in order; a later file's entry replaces an earlier one's, and says so.
 * Linear (Maps by id): 100,000 connections merge in milliseconds.
 */
export async function importAll(
  files: string[],
  target: ImportTarget,
): Promise<{ connections: ConnectionSpec[]; variables: VariableSpec[]; notes: ImportNote[]; formats: string[] }> {
  const out = {
    connections: [] as ConnectionSpec[],
    variables: [] as VariableSpec[],
    notes: [] as ImportNote[],
    formats: [] as string[],
  };
  const conns = new Map<string, number>();
  const vars = new Map<string, number>();
  for (const f of files) {
    const got = await importFile(f, target);
    out.formats.push(
      `${f}: ${got.format}, ${got.connections.length} connection(s), ${got.variables.length} variable(s)`,
    );
    for (const n of got.notes) out.notes.push(n);
    for (const c of got.connections) {
      const i = conns.get(c.id);
      if (i !== undefined) {
        out.notes.push({
          file: f,
          item: c.id,
          action: 'replaced',
          reason: 'also in an earlier --import; this one is used',
        });
        out.connections[i] = c;
      } else {
        conns.set(c.id, out.connections.length);
        out.connections.push(c);
      }
    }
    for (const v of got.variables) {
      const i = vars.get(v.key);
      if (i !== undefined) out.variables[i] = v;
      else {
        vars.set(v.key, out.variables.length);
        out.variables.push(v);
      }
    }
  }
  return out;
}
