/** One connection given as fields (an export, Astro's settings) to the URI the sandbox stores, with every loss reported. */
import { buildConnectionUri, connIdProblem, connUriProblem, parseConnectionUri, type ConnectionFields, type UriRules } from '../airflow/connection.js';
import type { ConnectionSpec } from '../settings.js';
import type { ImportNote } from './types.js';

const str = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : String(v));

export function fromFields(file: string, id: string, raw: Record<string, unknown>, rules: UriRules, notes: ImportNote[]): ConnectionSpec | null {
  const note = (action: ImportNote['action'], reason: string) => notes.push({ file, item: id, action, reason });
  const idProblem = connIdProblem(id);
  if (idProblem) {
    note('skipped', `the id ${idProblem}`);
    return null;
  }
  if (typeof raw.conn_uri === 'string' && raw.conn_uri) return fromUri(file, id, raw.conn_uri, notes);
  const connType = str(raw.conn_type);
  if (!connType) {
    note('skipped', 'neither conn_type nor conn_uri is given');
    return null;
  }
  let port: number | null = null;
  if (str(raw.port) !== null) {
    port = Number(raw.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      note('skipped', `port '${String(raw.port)}' is not a port number`);
      return null;
    }
  }
  const fields: ConnectionFields = {
    conn_type: connType,
    host: str(raw.host),
    login: raw.login === null || raw.login === undefined ? null : String(raw.login),
    password: raw.password === null || raw.password === undefined ? null : String(raw.password),
    schema: str(raw.schema),
    port,
    extra: raw.extra === null || raw.extra === undefined || raw.extra === '' ? null : (raw.extra as string | Record<string, unknown>),
  };
  let uri = buildConnectionUri(fields);
  let parsed = parseConnectionUri(uri, rules);
  if (fields.extra && parsed.extra !== null && !sameExtra(fields.extra, parsed.extra)) {
    // Flattened query values would change type on Airflow 3 ("30" becomes 30): keep the JSON as it is.
    uri = buildConnectionUri(fields, { extraAsJson: true });
    parsed = parseConnectionUri(uri, rules);
  }
  const changed: string[] = [];
  if (parsed.conn_type !== connType) changed.push(`conn_type '${connType}' reads back as '${parsed.conn_type}'`);
  if ((parsed.host || null) !== fields.host) changed.push(`host reads back as '${parsed.host}'`);
  if (parsed.port !== port) changed.push(port === 0 ? 'port 0 is dropped (Airflow drops it too)' : 'port differs');
  if (parsed.login !== fields.login) changed.push('login differs');
  if (parsed.password !== (fields.password || null)) changed.push(fields.password === '' ? 'an empty password becomes none (as in Airflow)' : 'password differs');
  if ((parsed.schema || null) !== fields.schema) changed.push('schema differs');
  if (fields.extra && !sameExtra(fields.extra, parsed.extra ?? '')) changed.push('extra differs');
  if (changed.length) note('changed', changed.join('; '));
  const problem = connUriProblem(uri);
  if (problem) {
    note('skipped', `the URI built from its fields ${problem}`);
    return null;
  }
  return { id, uri };
}

export function fromUri(file: string, id: string, uri: string, notes: ImportNote[]): ConnectionSpec | null {
  const idProblem = connIdProblem(id);
  if (idProblem) {
    notes.push({ file, item: id, action: 'skipped', reason: `the id ${idProblem}` });
    return null;
  }
  const problem = connUriProblem(uri);
  if (problem) {
    notes.push({ file, item: id, action: 'skipped', reason: `the URI ${problem}` });
    return null;
  }
  return { id, uri };
}

function sameExtra(a: string | Record<string, unknown>, b: string): boolean {
  try {
    const x: unknown = typeof a === 'string' ? JSON.parse(a) : a;
    return JSON.stringify(x) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}
