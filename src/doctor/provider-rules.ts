/**
 * What Airflow makes of a connection secret, for the emulation when no Airflow can be asked. The
 * provider's rules for the kwargs live with the backend settings (src/airflow/backend/kwargs.ts).
 */
import { airflowFeatures } from '../airflow/backend/index.js';

/** Keyword arguments of Connection() that a fields-format secret may use (Connection.from_json). */
export function connectionFields(major: string | undefined): readonly string[] {
  return airflowFeatures(major ?? '3').connectionFields;
}

/**
 * What Airflow makes of a connection secret (VaultBackend.get_conn_value, then Connection.from_json):
 * null when it builds a Connection, else why it raises. conn_uri wins when non-empty; otherwise the
 * whole secret becomes Connection keyword arguments.
 */
export function secretShapeProblem(data: Record<string, unknown>, major: string | undefined): string | null {
  if (typeof data.conn_uri === 'string' && data.conn_uri) return null;
  const allowed = connectionFields(major);
  const unknown = Object.keys(data).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    const hint = unknown.includes('conn_uri') ? ' (an empty conn_uri counts as a field)' : '';
    return `keys ${unknown.join(', ')} are not Connection fields${hint}: Connection() raises TypeError and Airflow skips the secret (allowed: conn_uri, or ${allowed.join(', ')})`;
  }
  if (data.uri && ['conn_type', 'host', 'login', 'password', 'schema', 'port', 'extra'].some((k) => data[k])) {
    return 'uri together with other fields: Connection() refuses to mix them';
  }
  if (
    data.port !== undefined &&
    data.port !== null &&
    data.port !== '' &&
    !/^\s*[+-]?\d+\s*$/.test(String(data.port))
  ) {
    return `port ${JSON.stringify(data.port)} is not an integer: Connection.from_json raises ValueError`;
  }
  return null;
}
