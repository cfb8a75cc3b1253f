/**
 * A connection as this tool carries it: one string per id, in either of the two forms Airflow
 * itself accepts for a connection (AIRFLOW_CONN_*, `connections add`):
 *  - a URI (`postgres://user:pass@host:5432/db`), readable, but unable to say "description",
 *    "login is empty, not absent" or "port 0";
 *  - Airflow's JSON form (`{"conn_type": "postgres", "description": "...", "login": ""}`), which
 *    keeps every field Airflow keeps. Imports of field-based exports use it, so nothing is lost.
 * Here: telling the forms apart, validating, the Vault secret each becomes per storage format,
 * what a format cannot keep (reported per connection), and the config entry (string or mapping).
 */
import { describeJsonError } from '../io/parse.js';
import { pyJsonDumps, pyJsonLoads } from './pyjson.js';
import {
  buildConnectionUri,
  connUriProblem,
  normalizeConnType,
  parseConnectionUri,
  type AirflowConnection,
  type UriRules,
} from './connection.js';

export type StorageFormat = 'uri' | 'fields';

/** One connection the sandbox seeds: its id and its value. */
export interface ConnectionSpec {
  id: string;
  /** A URI, or Airflow's JSON form when fields must be kept exactly (imports). */
  uri: string;
}

/** One variable the sandbox seeds. */
export interface VariableSpec {
  key: string;
  value: string;
}

/** Every field of Airflow's Connection that a secrets backend can set, in Airflow's order. */
export const EXACT_KEYS = ['conn_type', 'description', 'host', 'login', 'password', 'schema', 'port', 'extra'] as const;
type ExactKey = (typeof EXACT_KEYS)[number];

/** A connection field by field, null meaning None (absent), '' meaning an empty string. */
export interface ExactConnection {
  conn_type: string;
  description: string | null;
  host: string | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  port: number | null;
  /** The JSON text Airflow keeps in `extra`. */
  extra: string | null;
}

export class ConnectionValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionValueError';
  }
}

/** True for Airflow's JSON form; anything else is a URI. */
export function isJsonForm(value: string): boolean {
  return value.trimStart().startsWith('{');
}

/** A JSON value as Python's json.dumps writes it (", " and ": ", ASCII only): what Airflow stores. */
export const pyText = (v: unknown): string => pyJsonDumps(pyJsonLoads(JSON.stringify(v)));

/**
 * Fields from any source (an export's mapping, a parsed JSON form, a config mapping) as Airflow's
 * Connection would hold them: strings stay as given ('' is kept), an extra object becomes its
 * json.dumps text, a port must be a whole number. Throws ConnectionValueError.
 */
export function exactFromFields(raw: Record<string, unknown>): ExactConnection {
  for (const k of Object.keys(raw)) {
    if (!(EXACT_KEYS as readonly string[]).includes(k))
      throw new ConnectionValueError(`has an unknown field '${k}' (known: ${EXACT_KEYS.join(', ')})`);
  }
  const text = (k: ExactKey): string | null => {
    const v = raw[k];
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new ConnectionValueError(`has a ${k} that is not text`);
  };
  const connType = text('conn_type');
  if (!connType) throw new ConnectionValueError('has no conn_type');
  let port: number | null = null;
  if (raw.port !== null && raw.port !== undefined && raw.port !== '') {
    port = Number(raw.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new ConnectionValueError(`has port '${String(raw.port)}', which is not a port number`);
  }
  let extra: string | null = null;
  if (raw.extra !== null && raw.extra !== undefined) {
    if (typeof raw.extra === 'string') extra = raw.extra;
    else if (typeof raw.extra === 'object' && !Array.isArray(raw.extra)) extra = pyText(raw.extra);
    else throw new ConnectionValueError('has an extra that is neither JSON text nor a mapping');
  }
  return {
    conn_type: connType,
    description: text('description'),
    host: text('host'),
    login: text('login'),
    password: text('password'),
    schema: text('schema'),
    port,
    extra,
  };
}

/** The JSON form of exact fields: None fields left out (Airflow reads absent as None), '' kept. */
export function jsonForm(c: ExactConnection): string {
  const out: Record<string, unknown> = {};
  for (const k of EXACT_KEYS) if (c[k] !== null) out[k] = c[k];
  return JSON.stringify(out);
}

export function parseJsonForm(value: string): ExactConnection {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    // JSON.parse quotes the text around the error, and this text holds the password.
    const { at, reason } = describeJsonError(value);
    throw new ConnectionValueError(`is not valid JSON (${at ? `line ${at.line}, column ${at.col}: ` : ''}${reason})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConnectionValueError('is JSON but not a mapping of connection fields');
  return exactFromFields(raw as Record<string, unknown>);
}

/** Why a connection value (URI or JSON form) is refused, or null. */
export function connectionValueProblem(value: string): string | null {
  if (!isJsonForm(value)) return connUriProblem(value);
  try {
    const c = parseJsonForm(value);
    if (c.extra !== null && c.extra !== '') JSON.parse(c.extra);
    return null;
  } catch (e) {
    return e instanceof ConnectionValueError ? e.message : 'has an extra that is not valid JSON';
  }
}

/** The password a value carries (null when none or unparsable): a secret to mask everywhere. */
export function passwordOf(value: string): string | null {
  try {
    return isJsonForm(value) ? parseJsonForm(value).password : parseConnectionUri(value).password;
  } catch {
    return null;
  }
}

/**
 * The URI that stands for exact fields in the uri storage format, with the extra kept as JSON
 * (`__extra__`) whenever flattening it into query values would change a value's type.
 */
export function uriFor(c: ExactConnection, rules: UriRules): string {
  const fields = {
    conn_type: c.conn_type,
    host: c.host,
    login: c.login,
    password: c.password,
    schema: c.schema,
    port: c.port,
    extra: c.extra === '' ? null : c.extra,
  };
  const flat = buildConnectionUri(fields);
  if (c.extra) {
    try {
      const back = parseConnectionUri(flat, rules).extra;
      if (back !== null && JSON.stringify(JSON.parse(back)) === JSON.stringify(JSON.parse(c.extra))) return flat;
    } catch {
      /* not comparable: keep the JSON whole */
    }
    return buildConnectionUri(fields, { extraAsJson: true });
  }
  return flat;
}

/** The key/values stored in Vault for one connection, per storage format. */
export function connectionSecret(value: string, format: StorageFormat, rules: UriRules = '3'): Record<string, unknown> {
  if (isJsonForm(value)) {
    const c = parseJsonForm(value);
    if (format === 'uri') return { conn_uri: uriFor(c, rules) };
    // VaultBackend hands json.dumps(secret) to Connection.from_json: an absent key is None and ''
    // stays '', but a port of 0 and an empty extra are dropped there, so they are not stored.
    const out: Record<string, unknown> = {};
    for (const k of EXACT_KEYS) if (c[k] !== null && !((k === 'port' || k === 'extra') && !c[k])) out[k] = c[k];
    return out;
  }
  if (format === 'uri') return { conn_uri: value };
  const c = parseConnectionUri(value, rules);
  const out: Record<string, unknown> = { conn_type: c.conn_type };
  if (c.host) out.host = c.host;
  if (c.login !== null) out.login = c.login;
  if (c.password !== null) out.password = c.password;
  if (c.schema) out.schema = c.schema;
  if (c.port !== null) out.port = c.port;
  if (c.extra !== null) out.extra = c.extra;
  return out;
}

/** What Airflow builds from a stored secret (VaultBackend.get_connection), as exact fields. */
/** The URI VaultBackend builds a connection from: `conn_uri`, else a `uri` field (Connection(uri=...) takes it). */
function storedUri(data: Record<string, unknown>): string | undefined {
  if (typeof data.conn_uri === 'string' && data.conn_uri) return data.conn_uri;
  return typeof data.uri === 'string' && data.uri ? data.uri : undefined;
}

export function exactFromSecret(data: Record<string, unknown>, rules: UriRules = '3'): ExactConnection {
  const uri = storedUri(data);
  if (uri !== undefined) {
    const c = parseConnectionUri(uri, rules);
    return {
      conn_type: c.conn_type,
      description: null,
      host: c.host,
      login: c.login,
      password: c.password,
      schema: c.schema,
      port: c.port,
      extra: c.extra,
    };
  }
  // Fields: the provider hands json.dumps(secret) to Connection.from_json, which drops a falsy
  // port (0) and a falsy extra ('') and normalizes conn_type (2.11 and 3.x alike).
  const text = (k: string) => (data[k] === undefined || data[k] === null ? null : String(data[k]));
  const port = data.port ? Number(data.port) : null;
  const extra = !data.extra ? null : typeof data.extra === 'string' ? data.extra : pyText(data.extra);
  const connType = data.conn_type ? normalizeConnType(String(data.conn_type)) : '';
  return {
    conn_type: connType,
    description: text('description'),
    host: text('host'),
    login: text('login'),
    password: text('password'),
    schema: text('schema'),
    port: port === null || Number.isNaN(port) ? null : port,
    extra,
  };
}

/** The connection Airflow should resolve for `value` stored in `format` (what the checks compare against). */
export function expectedConnection(value: string, format: StorageFormat, rules: UriRules = '3'): AirflowConnection {
  if (!isJsonForm(value)) return parseConnectionUri(value, rules);
  const e = exactFromSecret(connectionSecret(value, format, rules), rules);
  return {
    conn_type: e.conn_type,
    host: e.host ?? '',
    port: e.port,
    login: e.login,
    password: e.password,
    schema: e.schema ?? '',
    extra: e.extra,
  };
}

/**
 * What storing `value` in `format` loses, field by field, in words: Airflow would resolve
 * something other than the value says. Empty for a URI value (the URI is what the user gave).
 * In fields format only what Airflow's own Connection.from_json drops (port 0, an empty extra).
 */
export function storageLosses(value: string, format: StorageFormat, rules: UriRules = '3'): string[] {
  return isJsonForm(value) ? lossesOf(parseJsonForm(value), format, rules) : [];
}

const PORT0 = 'port 0 is dropped (Airflow drops a port of 0 when it reads the secret)';

/** storageLosses for exact fields (an import computes them once; 100,000 of them must stay cheap). */
export function lossesOf(want: ExactConnection, format: StorageFormat, rules: UriRules = '3'): string[] {
  if (format === 'fields') {
    // Only what Connection.from_json changes: the rest is stored and read back as it is.
    const out: string[] = [];
    const t = normalizeConnType(want.conn_type);
    if (t !== want.conn_type) out.push(`conn_type '${want.conn_type}' reads back as '${t}' (Airflow normalizes it)`);
    if (want.port === 0) out.push(PORT0);
    if (want.extra === '') out.push('extra empty becomes none');
    return out;
  }
  const got = exactFromSecret(connectionSecret(jsonForm(want), format, rules), rules);
  const out: string[] = [];
  const show = (v: string | number | null) =>
    v === null ? 'none' : v === '' ? 'empty' : typeof v === 'number' ? String(v) : `'${v}'`;
  for (const k of EXACT_KEYS) {
    const a = want[k];
    const b = got[k];
    // A URI has no "no host" or "no schema": Airflow's own get_uri round trip turns None into '' too.
    if ((k === 'host' || k === 'schema') && !a && !b) continue;
    if (k === 'extra' && a !== null && b !== null && sameJson(String(a), String(b))) continue;
    if (a === b) continue;
    if (k === 'conn_type') out.push(`conn_type '${a}' reads back as '${b}' (Airflow normalizes it)`);
    else if (k === 'description')
      out.push(
        'description is dropped: with --format uri VaultBackend reads only conn_uri (use --format fields to keep it)',
      );
    else if (k === 'password') out.push(`password ${a === '' ? 'empty becomes none' : 'differs'}`);
    else if (k === 'extra')
      out.push(`extra ${b === null ? (a === '' ? 'empty becomes none' : 'is dropped') : 'reads back differently'}`);
    else if (k === 'port' && a === 0) out.push(PORT0);
    else out.push(`${k} ${show(a)} becomes ${show(b)}`);
  }
  return out;
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

/**
 * A config entry (`connections: {id: <entry>}`) to the value carried: a URI string, a JSON form
 * string, or a mapping of fields (written as the JSON form). Throws ConnectionValueError.
 */
export function parseConnectionEntry(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw))
    return jsonForm(exactFromFields(raw as Record<string, unknown>));
  throw new ConnectionValueError('must be a connection URI or a mapping of connection fields (conn_type, host, ...)');
}

/** The config entry for a value: a URI as it is; the JSON form as a mapping, readable in YAML. */
export function renderConnectionEntry(value: string): string | Record<string, unknown> {
  if (!isJsonForm(value)) return value;
  try {
    const c = parseJsonForm(value);
    const out: Record<string, unknown> = {};
    for (const k of EXACT_KEYS) if (c[k] !== null) out[k] = c[k];
    return out;
  } catch {
    return value;
  }
}

/** What Airflow resolved for a connection (its own view: `airflow connections get -o json`). */
export interface ResolvedConnection {
  conn_type: string | null;
  host: string | null;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  extra: string | null;
}

/**
 * The fields where what Airflow resolved differs from what `value` (stored in `format`) means; the
 * password is compared, never shown. Empty and absent count alike for the text fields (Airflow's ORM
 * stores an empty password as None); extra is compared as the text the URI rules produce.
 */
export function fieldsThatDiffer(
  value: string,
  got: ResolvedConnection,
  rules: UriRules,
  format: StorageFormat = 'uri',
): string[] {
  const e = expectedConnection(value, format, rules);
  const blank = (v: string | null | undefined) => (v === '' || v === undefined ? null : v);
  const diffs: string[] = [];
  for (const k of ['conn_type', 'host', 'port', 'login', 'schema', 'password', 'extra'] as const) {
    const same = k === 'port' ? e.port === got.port : blank(e[k]) === blank(got[k]);
    if (!same) diffs.push(k);
  }
  return diffs;
}

/** What VaultBackend builds from a secret: `conn_uri` when present, else the Connection fields. */
export function connectionFromSecret(data: Record<string, unknown>, rules: UriRules = '3'): AirflowConnection {
  const uri = storedUri(data);
  if (uri !== undefined) return parseConnectionUri(uri, rules);
  const str = (k: string) => (data[k] === undefined || data[k] === null ? null : String(data[k]));
  const port = data.port === undefined || data.port === null || data.port === '' ? null : Number(data.port);
  const extra =
    data.extra === undefined || data.extra === null
      ? null
      : typeof data.extra === 'string'
        ? data.extra
        : JSON.stringify(data.extra);
  return {
    conn_type: String(data.conn_type ?? ''),
    host: str('host') ?? '',
    port: Number.isNaN(port) ? null : port,
    login: str('login'),
    password: str('password'),
    schema: str('schema') ?? '',
    extra,
  };
}

/** The keys of a connection secret this tool writes, in either storage format. */
const CONNECTION_SECRET_KEYS: ReadonlySet<string> = new Set(['conn_uri', ...EXACT_KEYS]);

export type SecretMerge =
  /** Write `data`; `kept` names the keys of the existing secret carried over, `dropped` those --force drops. */
  | { data: Record<string, unknown>; kept: string[]; dropped: string[] }
  /** Keys of the existing secret that Airflow would choke on beside the new fields (fields format): refuse without --force. */
  | { refused: string[] };

/**
 * What to write over an existing secret that holds keys besides the ones this tool writes (a
 * team's `owner`, `rotation`). Airflow's VaultBackend reads only `conn_uri` when it is there and
 * only `value` for a variable, so such keys are kept. A connection stored as fields is handed to
 * Airflow's Connection() whole, where a foreign key fails the lookup: refused unless `force`,
 * which replaces the secret.
 */
export function mergeIntoSecret(
  existing: Record<string, unknown> | null,
  data: Record<string, unknown>,
  kind: 'connection' | 'variable',
  force: boolean,
): SecretMerge {
  const ours = kind === 'connection' ? CONNECTION_SECRET_KEYS : new Set(['value']);
  const others = existing ? Object.keys(existing).filter((k) => !ours.has(k)) : [];
  if (others.length === 0 || !existing) return { data, kept: [], dropped: [] };
  if (kind === 'connection' && !('conn_uri' in data)) {
    if (!force) return { refused: others };
    return { data, kept: [], dropped: others };
  }
  const merged: Record<string, unknown> = Object.create(null);
  for (const k of others) merged[k] = existing[k];
  Object.assign(merged, data);
  return { data: merged, kept: others, dropped: [] };
}
