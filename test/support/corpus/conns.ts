/**
 * Connections as the user means them (ConnIntent) and the ways they are stored in Vault: a URI
 * written as Airflow's own get_uri would (every reserved character percent-encoded), the Connection
 * fields one key each, or a URI with a classic trap left in (a raw `#`, `/`, `%`, `@`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../env.js';
import type { ConnIntent, Major } from './world.js';

/** Python's quote(s, safe=''): only unreserved characters stay (encodeURIComponent also keeps !'()*). */
export function quote(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The URI of a connection, spelled as Airflow's Connection.get_uri spells it. */
export function uriOf(c: ConnIntent): string {
  const scheme = c.conn_type.replace(/_/g, '-');
  let auth = '';
  if (c.login !== null || c.password !== null) {
    auth = quote(c.login ?? '');
    if (c.password !== null) auth += `:${quote(c.password)}`;
    auth += '@';
  }
  const host = c.host ?? '';
  const port = c.port !== null ? `:${c.port}` : '';
  const schema = c.schema ? `/${quote(c.schema)}` : '';
  let query = '';
  if (c.extra && Object.keys(c.extra).length > 0) {
    const flat = Object.values(c.extra).every((v) => typeof v === 'string');
    query = flat
      ? `?${new URLSearchParams(c.extra as Record<string, string>).toString()}`
      : `?__extra__=${quote(JSON.stringify(c.extra))}`;
  }
  return `${scheme}://${auth}${host}${port}${schema || (query ? '/' : '')}${query}`;
}

/** The Connection fields one key each, as `vault kv put ... conn_type=... host=...` stores them (strings). */
export function fieldsOf(c: ConnIntent): Record<string, string> {
  const out: Record<string, string> = { conn_type: c.conn_type };
  if (c.host !== null) out.host = c.host;
  if (c.login !== null) out.login = c.login;
  if (c.password !== null) out.password = c.password;
  if (c.port !== null) out.port = String(c.port);
  if (c.schema) out.schema = c.schema;
  if (c.extra) out.extra = JSON.stringify(c.extra);
  return out;
}

/** A plain connection, numbered so set-ups never share values. */
export function plainConn(n: number, kind = 0): ConnIntent {
  const types = [
    { conn_type: 'postgres', port: 5432 },
    { conn_type: 'mysql', port: 3306 },
    { conn_type: 'http', port: 8080 },
    { conn_type: 'smtps', port: 465 },
  ];
  const t = types[kind % types.length] ?? { conn_type: 'postgres', port: 5432 };
  return {
    conn_type: t.conn_type,
    host: `db${n}.example.com`,
    login: `user${n}`,
    password: `pw${n}x`,
    port: t.port,
    schema: `app${n}`,
    extra: null,
  };
}

export interface UriVector {
  uri: string;
  error?: boolean;
  conn_type?: string;
  host?: string;
  port?: number | null;
  login?: string | null;
  password?: string | null;
  schema?: string;
  extra?: string | null;
  /** Airflow 2.x's extra where it differs from Airflow 3's. */
  extra_airflow2?: string | null;
  notes?: string;
}

/**
 * The URI vectors (test/fixtures, held to real Airflow by uri-differential.airflow.test.ts): Airflow's
 * parse of each URI, or that it refuses it. Used as values users really store: where Airflow parses
 * a vector, its parse is taken as what the user meant, so a set-up holding it works; the refused
 * ones are traps.
 */
export function uriVectors(): UriVector[] {
  const file = join(ROOT, 'test', 'fixtures', 'airflow-conn-uris.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { vectors: UriVector[] }).vectors;
}

export function intentOfVector(v: UriVector, major: Major): ConnIntent {
  const extra = major === '2' && v.extra_airflow2 !== undefined ? v.extra_airflow2 : v.extra;
  return {
    conn_type: v.conn_type ?? '',
    host: v.host ?? null,
    login: v.login ?? null,
    password: v.password ?? null,
    port: v.port ?? null,
    schema: v.schema ?? null,
    extra: extra ? (JSON.parse(extra) as Record<string, unknown>) : null,
  };
}
