/**
 * One imported connection to the value the sandbox carries. Fields (an export, Astro's settings)
 * become Airflow's JSON form, which keeps every field Airflow keeps (description, '' versus
 * None, the extra's JSON text as it is); whatever the chosen storage format still cannot keep is
 * reported for this connection. A URI is taken as it is.
 */
import { connIdProblem, connUriProblem, type UriRules } from '../airflow/connection.js';
import {
  ConnectionValueError,
  exactFromFields,
  jsonForm,
  lossesOf,
  type ExactConnection,
  type StorageFormat,
} from '../airflow/spec.js';
import type { ConnectionSpec } from '../airflow/spec.js';
import type { ImportNote } from './types.js';

export interface ImportTarget {
  rules: UriRules;
  /** How the connections will be stored: what a format cannot keep is reported per connection. */
  format: StorageFormat;
}

export function fromFields(
  file: string,
  id: string,
  raw: Record<string, unknown>,
  target: ImportTarget,
  notes: ImportNote[],
): ConnectionSpec | null {
  const note = (action: ImportNote['action'], reason: string) => notes.push({ file, item: id, action, reason });
  const idProblem = connIdProblem(id);
  if (idProblem) {
    note('skipped', `the id ${idProblem}`);
    return null;
  }
  if (typeof raw.conn_uri === 'string' && raw.conn_uri) return fromUri(file, id, raw.conn_uri, notes);
  const fields: Record<string, unknown> = {};
  // Exports carry conn_id and is_encrypted/is_extra_encrypted beside the fields; they are not Connection fields.
  for (const [k, v] of Object.entries(raw))
    if (!['conn_uri', 'conn_id', 'id', 'is_encrypted', 'is_extra_encrypted'].includes(k)) fields[k] = v;
  if (fields.conn_type === null || fields.conn_type === undefined || fields.conn_type === '') {
    note('skipped', 'neither conn_type nor conn_uri is given');
    return null;
  }
  let exact: ExactConnection;
  try {
    exact = exactFromFields(fields);
    if (exact.extra !== null && exact.extra !== '') JSON.parse(exact.extra);
  } catch (e) {
    note('skipped', e instanceof ConnectionValueError ? `it ${e.message}` : 'its extra is not valid JSON');
    return null;
  }
  const value = jsonForm(exact);
  const losses = lossesOf(exact, target.format, target.rules);
  if (losses.length) note('changed', losses.join('; '));
  return { id, uri: value };
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
