/**
 * Airflow's connection URI rules (2.x/3.x `Connection._parse_from_uri`), reproduced exactly,
 * including Python's `urlsplit`, `unquote`, `parse_qsl` and `json.dumps` behaviour, because a
 * connection that parses differently here than in Airflow is exactly the silent failure this
 * tool exists to catch. Real Airflow is the judge: test/e2e checks this module against it.
 */
import { isIPv6 } from 'node:net';
import { pyDumpsDict, pyJsonLoads, pyStr, PyJsonError } from './pyjson.js';

export interface AirflowConnection {
  conn_type: string;
  host: string;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string;
  /** The JSON text Airflow stores in `extra`, or null. */
  extra: string | null;
}

export class ConnectionUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionUriError';
  }
}

// ---------------------------------------------------------------------------------------------
// Python urllib.parse, as in CPython 3.11.
// ---------------------------------------------------------------------------------------------

const SCHEME_CHARS = /^[A-Za-z0-9+\-.]+$/;
// urlsplit strips leading C0 controls and spaces, and removes tab/CR/LF anywhere.
const LEADING_C0_OR_SPACE = /^[\x00-\x20]+/;
const UNSAFE_BYTES = /[\t\r\n]/g;

interface SplitResult {
  scheme: string;
  netloc: string;
  path: string;
  query: string;
  fragment: string;
}

export function urlsplit(input: string): SplitResult {
  let url = input.replace(LEADING_C0_OR_SPACE, '').replace(UNSAFE_BYTES, '');
  let scheme = '';
  let netloc = '';
  let query = '';
  let fragment = '';
  const i = url.indexOf(':');
  if (i > 0 && /^[A-Za-z]/.test(url) && SCHEME_CHARS.test(url.slice(0, i))) {
    scheme = url.slice(0, i).toLowerCase();
    url = url.slice(i + 1);
  }
  if (url.startsWith('//')) {
    let delim = url.length;
    for (const c of '/?#') {
      const w = url.indexOf(c, 2);
      if (w >= 0) delim = Math.min(delim, w);
    }
    netloc = url.slice(2, delim);
    url = url.slice(delim);
    const open = netloc.includes('[');
    const close = netloc.includes(']');
    if (open !== close) throw new ConnectionUriError('Invalid IPv6 URL');
    if (open) checkBracketedHost(netloc);
  }
  const hash = url.indexOf('#');
  if (hash >= 0) {
    fragment = url.slice(hash + 1);
    url = url.slice(0, hash);
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    query = url.slice(q + 1);
    url = url.slice(0, q);
  }
  return { scheme, netloc, path: url, query, fragment };
}

/** CPython 3.11.4+ validates the text between brackets as an IPv6 address (or IPvFuture). */
function checkBracketedHost(netloc: string): void {
  const hostinfo = rpartition(netloc, '@')[2];
  const bracketed = partition(hostinfo, '[')[2];
  const host = partition(bracketed, ']')[0];
  if (host.startsWith('v')) {
    if (!/^v[0-9a-fA-F]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/.test(host))
      throw new ConnectionUriError('IPvFuture address is invalid');
    return;
  }
  const addr = partition(host, '%')[0];
  if (!isIPv6(addr)) throw new ConnectionUriError(`'${host}' does not appear to be an IPv4 or IPv6 address`);
}

function partition(s: string, sep: string): [string, string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, '', ''] : [s.slice(0, i), sep, s.slice(i + sep.length)];
}

function rpartition(s: string, sep: string): [string, string, string] {
  const i = s.lastIndexOf(sep);
  return i < 0 ? ['', '', s] : [s.slice(0, i), sep, s.slice(i + sep.length)];
}

function userinfoOf(netloc: string): { username: string | null; password: string | null } {
  const [userinfo, haveInfo] = rpartition(netloc, '@');
  if (!haveInfo) return { username: null, password: null };
  const [username, havePassword, password] = partition(userinfo, ':');
  return { username, password: havePassword ? password : null };
}

function hostinfoOf(netloc: string): { hostname: string; port: string | null } {
  const hostinfo = rpartition(netloc, '@')[2];
  const [, openBr, bracketed] = partition(hostinfo, '[');
  let hostname: string;
  let port: string;
  if (openBr) {
    const [h, , rest] = partition(bracketed, ']');
    hostname = h;
    port = partition(rest, ':')[2];
  } else {
    const [h, , p] = partition(hostinfo, ':');
    hostname = h;
    port = p;
  }
  return { hostname, port: port === '' ? null : port };
}

/** `SplitResult.hostname`: lower-cased, brackets gone, the zone id after `%` kept as is. */
function hostnameOf(netloc: string): string | null {
  const { hostname } = hostinfoOf(netloc);
  if (!hostname) return null;
  const [h, pct, zone] = partition(hostname, '%');
  return h.toLowerCase() + pct + zone;
}

function portOf(netloc: string): number | null {
  const { port } = hostinfoOf(netloc);
  if (port === null) return null;
  if (!/^[0-9]+$/.test(port)) throw new ConnectionUriError(`Port could not be cast to integer value as '${port}'`);
  const n = Number(port);
  if (n < 0 || n > 65535) throw new ConnectionUriError('Port out of range 0-65535');
  return n;
}

/** Python's `unquote(s)`: %XX sequences are bytes decoded as UTF-8 with replacement; bad escapes stay. */
export function unquote(s: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  // Non-ASCII characters pass through; only ASCII runs are percent-decoded (CPython `_asciire`).
  for (const run of s.match(/[\x00-\x7f]+|[^\x00-\x7f]+/g) ?? []) {
    if (run.charCodeAt(0) > 0x7f) {
      out += run;
      continue;
    }
    const bytes: number[] = [];
    for (let i = 0; i < run.length; i++) {
      const c = run.charCodeAt(i);
      if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(run.slice(i + 1, i + 3))) {
        bytes.push(parseInt(run.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(c);
      }
    }
    out += new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(bytes));
  }
  return out;
}

/** `parse_qsl(qs, keep_blank_values=True)` */
function parseQsl(qs: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const nameValue of qs.split('&')) {
    if (!nameValue) continue;
    const eq = nameValue.indexOf('=');
    const name = eq < 0 ? nameValue : nameValue.slice(0, eq);
    const value = eq < 0 ? '' : nameValue.slice(eq + 1);
    pairs.push([unquote(name.replace(/\+/g, ' ')), unquote(value.replace(/\+/g, ' '))]);
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------------
// Airflow's rules on top.
// ---------------------------------------------------------------------------------------------

function decodeQueryValue(v: string) {
  if (!v) return pyStr(v);
  try {
    return pyJsonLoads(v);
  } catch (e) {
    if (e instanceof PyJsonError) return pyStr(v);
    throw e;
  }
}

export function normalizeConnType(t: string): string {
  if (t === 'postgresql') return 'postgres';
  return t.includes('-') ? t.replace(/-/g, '_') : t;
}

function parseNetlocToHostname(parts: SplitResult): string {
  let hostname = unquote(hostnameOf(parts.netloc) ?? '');
  if (hostname.includes('/')) {
    hostname = parts.netloc;
    if (hostname.includes('@')) hostname = rpartition(hostname, '@')[2];
    if (hostname.includes(':')) hostname = partition(hostname, ':')[0];
    hostname = unquote(hostname);
  }
  return hostname;
}

/** Which Airflow's rules: 3.x JSON-decodes each query value (`?port=1` gives the number 1); 2.x keeps strings. */
export type UriRules = '2' | '3';

/**
 * Parse a connection URI the way Airflow's `Connection(uri=...)` does; throws ConnectionUriError
 * where Airflow raises. Airflow's ORM stores an empty password as None, and so do we.
 */
export function parseConnectionUri(uri: string, rules: UriRules = '3'): AirflowConnection {
  const schemes = uri.split('://').length - 1;
  if (schemes > 2) throw new ConnectionUriError(`Invalid connection string: more than two '://' in it`);
  const hostWithProtocol = schemes === 2;
  const first = urlsplit(uri);
  const connType = normalizeConnType(first.scheme);
  // Airflow replaces every occurrence, not just the first: that quirk is part of the contract.
  const rest = uri.split(`${first.scheme}://`).join(hostWithProtocol ? '' : '//');
  if (hostWithProtocol) {
    const head = rest.split('://')[0] ?? '';
    if (head.includes('@') || head.includes(':')) {
      throw new ConnectionUriError(`Invalid connection string: a protocol in the host may not follow login or port`);
    }
  }
  const parts = urlsplit(rest);
  const protocol = hostWithProtocol ? parts.scheme : null;
  const hostRaw = parseNetlocToHostname(parts);
  const host = hostRaw && protocol ? `${protocol}://${hostRaw}` : hostRaw;
  const quotedSchema = parts.path.slice(1);
  const { username, password } = userinfoOf(parts.netloc);
  const port = portOf(parts.netloc);
  let extra: string | null = null;
  if (parts.query) {
    const query = parseQsl(parts.query);
    const explicit = [...query].reverse().find(([k]) => k === '__extra__');
    extra = explicit
      ? explicit[1]
      : pyDumpsDict(query.map(([k, v]) => [k, rules === '3' ? decodeQueryValue(v) : pyStr(v)]));
  }
  return {
    conn_type: connType,
    host,
    port,
    login: username ? unquote(username) : username,
    password: password ? unquote(password) : null,
    schema: quotedSchema ? unquote(quotedSchema) : quotedSchema,
    extra,
  };
}

// ---------------------------------------------------------------------------------------------
// What this tool accepts, on top of what Airflow accepts.
// ---------------------------------------------------------------------------------------------

const CONN_ID = /^[A-Za-z0-9_.-]+$/;
export const CONN_ID_MAX = 250;

/**
 * A connection id must be a single Vault path segment and a valid Airflow key. Airflow itself
 * allows `/` and `:` in ids, but `/` would split the Vault path and `..` would climb out of it.
 * Returns a problem description, or null when the id is fine.
 */
export function connIdProblem(id: string): string | null {
  if (id.length === 0) return 'is empty';
  if (id.length > CONN_ID_MAX) return `is ${id.length} characters long (Airflow allows ${CONN_ID_MAX})`;
  if (id === '.' || id === '..') return 'is a path step, not a name';
  if (!CONN_ID.test(id)) return 'may hold only letters, digits, `_`, `-` and `.`';
  return null;
}

/**
 * What is wrong with the scheme of a URI whose connection type Airflow reads as empty, or whose
 * `://` is missing, in terms of the text the user typed. Python's urlsplit takes a scheme only when
 * the text before the first ':' starts with an ASCII letter and holds only letters, digits, '+',
 * '-' and '.'; otherwise the scheme (and so Airflow's conn_type) is empty.
 */
export function schemeProblem(typed: string): string | null {
  // What urlsplit looks at: leading spaces and control characters, tabs and newlines are dropped first.
  const uri = typed.replace(LEADING_C0_OR_SPACE, '').replace(UNSAFE_BYTES, '');
  // urlsplit's own scheme rule (the rest of it may raise on a malformed host: not this function's to say).
  const firstColon = uri.indexOf(':');
  const hasScheme = firstColon > 0 && /^[A-Za-z]/.test(uri) && SCHEME_CHARS.test(uri.slice(0, firstColon));
  if (uri.includes('://') && hasScheme) return null;
  const typeLike = /^([A-Za-z][A-Za-z0-9+.-]*)(:\/?(?!\/)|\/\/|:?$)/.exec(uri);
  if (typeLike && !uri.startsWith(`${typeLike[1]}://`)) {
    const [typed = '', t = ''] = typeLike;
    if (typed !== t) return `starts with '${typed}' where '${t}://' belongs`;
  }
  if (!uri.includes('://')) return "has no '<type>://' at its start, e.g. postgres://user:pass@host:5432/db";
  const colon = uri.indexOf(':');
  if (colon === 0) return "has nothing before '://': the connection type goes there, e.g. postgres://";
  const head = uri.slice(0, colon);
  const first = head[0] ?? '';
  if (!/[A-Za-z]/.test(first))
    return `has a type '${head}' that starts with '${first}': a URI scheme starts with a letter`;
  const bad = [...head].find((c) => !/[A-Za-z0-9+.-]/.test(c));
  if (bad === undefined) return null;
  const shown = JSON.stringify(bad).slice(1, -1);
  const fix = bad === '_' ? ": write '-' instead (Airflow turns it back into '_')" : '';
  return head.includes('/')
    ? `has '${head}' before its first ':', and a URI scheme cannot hold '/'; the type and '://' go first, e.g. postgres://`
    : `has a type '${head}' holding '${shown}', which a URI scheme cannot hold${fix}`;
}

/** Why a URI is refused, or null. Airflow's own errors first, then URIs Airflow accepts but that yield no connection type. */
export function connUriProblem(uri: string): string | null {
  if (uri.trim() === '') return 'is empty';
  if (!uri.includes('://')) return schemeProblem(uri);
  let parsed: AirflowConnection;
  try {
    parsed = parseConnectionUri(uri);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /integer value as '(.*)'$/.exec(msg);
    const at = uri.lastIndexOf('@');
    // Airflow quotes the text it took for a port; when that text is a piece of the password, never echo it.
    if (m?.[1] !== undefined && at >= 0 && uri.slice(0, at).includes(m[1])) {
      return "is rejected by Airflow: a raw '/', '?' or '#' in the login or password ends the host part, so Airflow reads part of the password as the port (Port could not be cast to integer)";
    }
    return `is rejected by Airflow: ${msg}`;
  }
  if (parsed.conn_type === '') {
    return `has no connection type Airflow can read: it ${schemeProblem(uri) ?? "needs a '<type>://' at its start"}`;
  }
  if (parsed.extra !== null && uri.includes('__extra__')) {
    try {
      const v: unknown = JSON.parse(parsed.extra);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return '__extra__ must be a JSON object';
    } catch {
      return '__extra__ is not valid JSON';
    }
  }
  return null;
}

/** The password a URI carries as Airflow reads it (null when none or unparsable): a secret to mask everywhere. */
export function connectionPassword(uri: string): string | null {
  try {
    return parseConnectionUri(uri).password;
  } catch {
    return null;
  }
}

const py = (v: string | number | null): string => (v === null ? 'None' : String(v));

/** The line Airflow 2.1 logs for a fetched connection, with the password and extra masked as Airflow masks them. */
export function describeConnection(id: string, c: AirflowConnection): string {
  return (
    `id: ${id}. Host: ${py(c.host)}, Port: ${py(c.port)}, Schema: ${c.schema}, Login: ${py(c.login)}, ` +
    `Password: ${c.password ? '***' : py(c.password)}, extra: ${c.extra ? '***' : 'None'}`
  );
}

export const CONNECTION_FIELDS = ['conn_type', 'host', 'port', 'login', 'password', 'schema', 'extra'] as const;

/** Fields that differ between two parsed connections (password compared, never shown). */
export function diffConnections(expected: AirflowConnection, actual: AirflowConnection): string[] {
  return CONNECTION_FIELDS.filter((f) => expected[f] !== actual[f]);
}

// ---------------------------------------------------------------------------------------------
// Fields to URI: Airflow's `Connection.get_uri`, for imports that come as fields.
// ---------------------------------------------------------------------------------------------

/** Python's `quote(s, safe='')` over UTF-8. */
export function quote(s: string): string {
  return [...new TextEncoder().encode(s)]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** Python's `quote_plus`: like quote, but a space becomes '+'. */
function quotePlus(s: string): string {
  return quote(s).replace(/%20/g, '+');
}

export interface ConnectionFields {
  conn_type: string;
  host?: string | null;
  port?: number | null;
  login?: string | null;
  password?: string | null;
  schema?: string | null;
  /** Airflow's extra: its JSON text, or an object (as Astro and some exports give it). */
  extra?: string | Record<string, unknown> | null;
}

export function buildConnectionUri(c: ConnectionFields, opts: { extraAsJson?: boolean } = {}): string {
  let uri = c.conn_type ? `${c.conn_type.toLowerCase().replace(/_/g, '-')}://` : '//';
  let hostToUse = c.host ?? null;
  if (c.host && c.host.includes('://')) {
    const [protocol, host] = [c.host.slice(0, c.host.indexOf('://')), c.host.slice(c.host.indexOf('://') + 3)];
    if (protocol !== c.conn_type) {
      hostToUse = host;
      uri += `${protocol}://`;
    }
  }
  let authority = '';
  if (c.login !== null && c.login !== undefined) authority += quote(c.login);
  if (c.password !== null && c.password !== undefined) authority += ':' + quote(c.password);
  if (authority) uri += authority + '@';
  let hostBlock = hostToUse ? quote(hostToUse) : '';
  if (c.port) hostBlock += hostBlock === '' && authority === '' ? `@:${c.port}` : `:${c.port}`;
  if (c.schema) hostBlock += `/${quote(c.schema)}`;
  uri += hostBlock;
  const extraText =
    c.extra === null || c.extra === undefined ? '' : typeof c.extra === 'string' ? c.extra : JSON.stringify(c.extra);
  if (extraText) {
    let extra: unknown;
    try {
      extra = JSON.parse(extraText);
    } catch {
      extra = undefined;
    }
    const flat =
      extra &&
      typeof extra === 'object' &&
      !Array.isArray(extra) &&
      Object.values(extra).every((v) => typeof v === 'string');
    const sep = c.schema ? '?' : '/?';
    if (flat && !opts.extraAsJson && Object.keys(extra as object).length) {
      uri +=
        sep +
        Object.entries(extra as Record<string, string>)
          .map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`)
          .join('&');
    } else {
      uri += sep + `__extra__=${quotePlus(extraText)}`;
    }
  }
  return uri;
}
