/**
 * Values, not presence. For the ids the sandbox seeded, what Airflow resolves is compared field by
 * field with what was seeded (the password compared, never shown). For other ids, what Airflow
 * resolved is shown (masked), and the URI traps that make it resolve something else than written
 * are named by parsing the stored value with Airflow's rules (src/airflow/connection.ts): an
 * unescaped `#` (the rest is dropped as a fragment), an `__extra__` that is not a JSON object.
 * Without Airflow, a stored value that differs from the seeded one is proven from Vault; a trap in
 * another id is Airflow's to decide.
 */
import { airflowFeatures } from '../airflow/backend/index.js';
import { ConnectionUriError, parseConnectionUri, urlsplit, type UriRules } from '../airflow/connection.js';
import { answeredBy, backendLabel, type ProbeConnection } from '../airflow/probe.js';
import {
  connectionSecret,
  exactFromSecret,
  fieldsThatDiffer,
  isJsonForm,
  type StorageFormat,
} from '../airflow/spec.js';
import { shellArg } from '../ui/invocation.js';
import { askedAirflow, vaultAnswers } from './evidence.js';
import { envVarFix, serverCli, toolMade, upFix, YOUR_CONN_URI, YOUR_VAR_VALUE } from './fixes.js';
import { intendedValues } from './intended.js';
import { effectiveMount } from './mount.js';
import { secretPath } from '../airflow/backend/index.js';
import { type CheckInput, type CheckOutcome, defineCheck, fail, namespaceOf, ok, skip } from './types.js';

type Input = CheckInput<'connections' | 'variables'>;

interface Problem {
  text: string;
  fix?: string;
}

/** The user and password of a URI (before its last `@`), or undefined when it has none. */
function userinfo(raw: string): string | undefined {
  const scheme = raw.indexOf('://');
  if (scheme < 0) return undefined;
  const rest = raw.slice(scheme + 3);
  const at = rest.lastIndexOf('@');
  return at > 0 ? rest.slice(0, at) : undefined;
}

/**
 * A `/`, `?` or `#` in a URI's user or password: Python's urlsplit ends the authority at the first
 * of them, so Airflow reads a port (or a host) out of the password, or refuses the URI. Written
 * percent-encoded (%2F, %3F, %23) they are the password's own.
 */
export function rawInUserinfo(raw: string): boolean {
  return /[/?#]/.test(userinfo(raw) ?? '');
}

/**
 * A %XX in the user or password that stands for a letter, digit or `-._~`: no encoder writes those
 * escaped, so the `%` is the password's own, and Airflow (which unquotes both) reads another
 * character there. A literal `%` is written %25.
 */
const UNRESERVED_ESCAPE = /%(?:4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE]|3[0-9]|2[DE])/i;

export function literalPercentInUserinfo(raw: string): string | undefined {
  return UNRESERVED_ESCAPE.exec(userinfo(raw) ?? '')?.[0];
}

/** A URI whose user or password a re-encoding (reencodeFix, reseedFix) writes as meant. */
export function reencodable(raw: string): boolean {
  return !isJsonForm(raw) && (rawInUserinfo(raw) || literalPercentInUserinfo(raw) !== undefined);
}

/** Why Airflow resolves a stored URI as something else than it reads as, or undefined. */
export function uriTrap(raw: string, rules: UriRules): string | undefined {
  if (isJsonForm(raw)) return undefined;
  if (rawInUserinfo(raw))
    return 'a raw /, ? or # in the user or password (Airflow ends the host part there: the port or host comes from the password, or the URI is refused)';
  if (urlsplit(raw).fragment !== '' || raw.includes('#'))
    return 'an unescaped # (Airflow takes the rest of the URI as a fragment and drops it)';
  const literal = literalPercentInUserinfo(raw);
  if (literal)
    return `a ${literal} in the user or password, which Airflow decodes to '${decodeURIComponent(literal)}' (a literal % is written %25)`;
  let extra: string | null;
  try {
    extra = parseConnectionUri(raw, rules).extra;
  } catch (e) {
    if (e instanceof ConnectionUriError) return `a URI Airflow refuses (${e.message})`;
    throw e;
  }
  if (extra !== null && /[?&]__extra__=/.test(raw)) {
    try {
      const v: unknown = JSON.parse(extra);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return '__extra__ that is not a JSON object';
    } catch {
      return '__extra__ that is not JSON';
    }
  }
  return undefined;
}

/** One line for what Airflow resolved, the password never shown. */
function masked(id: string, c: ProbeConnection, from: string): string {
  const port = c.port !== null ? `:${c.port}` : '';
  const extra = c.extra ? `, extra ${c.extra.length} chars` : '';
  return `${id} from ${from}: ${c.conn_type || '(no type)'} ${c.login ?? ''}${c.login ? '@' : ''}${c.host ?? ''}${port}${c.schema ? `/${c.schema}` : ''}, password ${c.password ? 'set' : 'not set'}${extra}`;
}

type Where = Pick<Input, 'mount' | 'connectionsPath' | 'sandbox' | 'env' | 'access' | 'config' | 'backend'>;

/** Where a connection secret lives, as VaultBackend reads it. */
function secretAt(ctx: Where, id: string): { mount: string; path: string } | undefined {
  const where = effectiveMount(ctx.mount, ctx.connectionsPath);
  return where ? { mount: where.mount, path: secretPath(where.path, id) } : undefined;
}

/**
 * Python that reads a URI on stdin and prints it with its user and password percent-encoded: a raw
 * `#`, `/`, `?`, `:` or `%` that is not an escape becomes one; an escape of a letter or digit (which
 * no encoder writes) is taken as a literal `%`; other escapes are kept. Nothing secret is printed
 * by the command that runs it: the result goes straight back to Vault or to `up`.
 */
const ENCODE_USERINFO =
  'import re,sys,urllib.parse as p; u=sys.stdin.read().strip(); s,r=u.split("://",1); a,h=r.rsplit("@",1); l,c,w=a.partition(":"); ' +
  'q=lambda x: re.sub(r"(?i)%(?![0-9a-f]{2})|%(?=4[1-9a-f]|5[0-9af]|6[1-9a-f]|7[0-9ae]|3[0-9]|2[de])|[^A-Za-z0-9._~%-]", lambda m: p.quote(m.group(),safe=""), x); ' +
  'print(s+"://"+q(l)+(":"+q(w) if c else "")+"@"+h, end="")';

/** Where the secret is, as `kv get`/`kv put` options: the address and namespace Airflow uses. */
function kvLocation(ctx: Where, at: { mount: string; path: string }): string {
  const ns = namespaceOf(ctx.backend.kwargs);
  return `-address=${shellArg(ctx.access.url)}${ns ? ` -namespace=${shellArg(ns)}` : ''} -mount=${shellArg(at.mount)} ${shellArg(at.path)}`;
}

/** The stored URI of `id` read from Vault and printed re-encoded (ENCODE_USERINFO), never shown. */
function encodedFromVault(ctx: Where, id: string): { cmd: string; bin: string; loc: string } | undefined {
  const at = secretAt(ctx, id);
  if (!at) return undefined;
  const bin = `${serverCli(ctx)} kv`;
  const loc = kvLocation(ctx, at);
  return { cmd: `${bin} get -field=conn_uri ${loc} | python3 -c '${ENCODE_USERINFO}'`, bin, loc };
}

/**
 * A command that stores the URI again with its user and password percent-encoded (a `#`, `/` or `?`
 * in a password must be written %23, %2F, %3F), read from and written back to Vault: nothing secret
 * is printed. Needs a token that may write there (the sandbox .env's VAULT_TOKEN does).
 */
export function reencodeFix(ctx: Where, id: string): string | undefined {
  const e = encodedFromVault(ctx, id);
  return e ? `${e.cmd} | ${e.bin} put ${e.loc} conn_uri=-` : undefined;
}

/**
 * For an id the sandbox seeded: its config gets the re-encoded URI (`up --conn` writes it to
 * secrets-sandbox.yaml and seeds it), so the next `up` seeds what was meant instead of putting the
 * raw URI back (or refusing it).
 */
export function reseedFix(ctx: Where, id: string): string | undefined {
  const e = encodedFromVault(ctx, id);
  return e ? upFix(ctx, { args: `--conn "${id}=$(${e.cmd})"` }) : undefined;
}

/** The fix for a URI that holds a trap: re-encoded in the config for a seeded id, in Vault for another. */
export function trapFix(ctx: Where, id: string, raw: string): string | undefined {
  const seeded = toolMade(ctx) !== undefined && intendedValues(ctx).connections.has(id);
  if (!reencodable(raw)) return seeded ? upFix(ctx) : undefined;
  return seeded ? reseedFix(ctx, id) : reencodeFix(ctx, id);
}

/** Field names people write for Airflow's own (Connection() takes only its own). */
const FIELD_ALIASES: Record<string, string> = {
  hostname: 'host',
  username: 'login',
  user: 'login',
  passwd: 'password',
  pass: 'password',
  database: 'schema',
  db: 'schema',
  type: 'conn_type',
};

/**
 * For a secret whose keys Connection() refuses: a command that stores it again with each unknown
 * key renamed to Airflow's field when it is a known alias (hostname -> host) and that field is
 * unset, else dropped. Read from and written back to Vault; nothing secret is printed.
 */
export function fieldNamesFix(ctx: Where, id: string, unknown: string[], kv: 1 | 2): string | undefined {
  const at = secretAt(ctx, id);
  if (!at || !unknown.length) return undefined;
  const bin = `${serverCli(ctx)} kv`;
  const loc = kvLocation(ctx, at);
  const aliases = Object.fromEntries(unknown.flatMap((k) => (FIELD_ALIASES[k] ? [[k, FIELD_ALIASES[k]]] : [])));
  const py =
    `import json,sys; d=json.load(sys.stdin)["data"]${kv === 2 ? '["data"]' : ''}; a=${JSON.stringify(aliases)}; ` +
    `v={k: d.pop(k) for k in ${JSON.stringify(unknown)} if k in d}; ` +
    '[d.setdefault(a[k], x) for k, x in v.items() if k in a]; print(json.dumps(d))';
  const renamed = Object.entries(aliases).map(([k, t]) => `${k} -> ${t}`);
  const dropped = unknown.filter((k) => !aliases[k]);
  const note = [
    ...(renamed.length ? [`renames ${renamed.join(', ')}`] : []),
    ...(dropped.length ? [`drops ${dropped.join(', ')}`] : []),
  ];
  return `${bin} get -format=json ${loc} | python3 -c '${py}' | ${bin} put ${loc} -  # ${note.join('; ')}`;
}

/**
 * A secret Airflow cannot use as stored, whose meant value only the user knows (a port that is not
 * a number, a URI Airflow refuses, a null variable): the exact re-store, with the placeholder the
 * user fills in. `kv put` replaces the whole secret, so the keys that broke it go too.
 */
export function storeMeantFix(
  ctx: Where,
  at: { mount: string; path: string },
  kind: 'connection' | 'variable',
): string {
  const put = `${serverCli(ctx)} kv put ${kvLocation(ctx, at)}`;
  return kind === 'connection'
    ? `${put} conn_uri='${YOUR_CONN_URI}'  # the URI you meant, its user and password percent-encoded`
    : `${put} value='${YOUR_VAR_VALUE}'  # the value you meant`;
}

/**
 * A secret re-stored from what Vault holds by a Python expression over its data `d` (never printed):
 * a variable's only key renamed to value, a `uri` kept without the fields beside it.
 */
export function restoreFix(
  ctx: Where,
  at: { mount: string; path: string },
  kv: 1 | 2,
  expr: string,
  note: string,
): string {
  const bin = `${serverCli(ctx)} kv`;
  const loc = kvLocation(ctx, at);
  const py = `import json,sys; d=json.load(sys.stdin)["data"]${kv === 2 ? '["data"]' : ''}; print(json.dumps(${expr}))`;
  return `${bin} get -format=json ${loc} | python3 -c '${py}' | ${bin} put ${loc} -  # ${note}`;
}

/** The connection's re-store with the URI only the user knows. */
function meantUri(ctx: Where, id: string): string | undefined {
  const at = secretAt(ctx, id);
  return at ? storeMeantFix(ctx, at, 'connection') : undefined;
}

function rulesOf(ctx: Input): UriRules {
  return airflowFeatures(ctx.airflow?.version ?? ctx.intendedAirflow?.major ?? '3').uriRules;
}

/** With Airflow asked: what it resolved, against what was seeded or what the stored URI reads as. */
function airflowsValues(ctx: Input): { problems: Problem[]; lines: string[] } | undefined {
  const p = askedAirflow(ctx);
  if (!p) return undefined;
  const intended = intendedValues(ctx);
  const rules = rulesOf(ctx);
  const problems: Problem[] = [];
  const lines: string[] = [];
  for (const a of vaultAnswers(p)) {
    const v = a.verdict;
    if (!v.found) continue;
    const from = answeredBy(v).answer ?? 'VaultBackend';
    const standIn = from !== 'VaultBackend';
    const standInFix =
      standIn && from === 'EnvironmentVariablesBackend'
        ? envVarFix(ctx, `${a.kind === 'connection' ? 'AIRFLOW_CONN_' : 'AIRFLOW_VAR_'}${a.id.toUpperCase()}`, null)
        : undefined;
    if (a.kind === 'variable') {
      const want = intended.variables.get(a.id);
      if (want !== undefined && v.value !== want)
        problems.push({
          text: `Airflow reads variable ${a.id} from ${backendLabel(from)} with another value than the sandbox seeded`,
          fix: standInFix ?? upFix(ctx),
        });
      continue;
    }
    if (!v.conn) continue;
    lines.push(masked(a.id, v.conn, backendLabel(from)));
    const want = intended.connections.get(a.id);
    if (want) {
      // Only a trap in the user or password: the rest of a seeded URI means what Airflow parses (a #fragment is dropped).
      const seededTrap = reencodable(want.value) ? uriTrap(want.value, rules) : undefined;
      if (seededTrap) {
        problems.push({
          text: `the URI the sandbox seeds for ${a.id} has ${seededTrap}; Airflow resolves ${masked(a.id, v.conn, backendLabel(from))}`,
          fix: trapFix(ctx, a.id, want.value) ?? standInFix,
        });
        continue;
      }
      const diffs = fieldsThatDiffer(want.value, v.conn, rules, want.format);
      if (diffs.length)
        problems.push({
          text: `Airflow resolves ${a.id} from ${backendLabel(from)} with another ${diffs.join(', ')} than the sandbox seeded`,
          fix: standInFix ?? upFix(ctx),
        });
      continue;
    }
    const trap = !standIn && v.raw !== undefined ? uriTrap(v.raw, rules) : undefined;
    if (trap)
      problems.push({
        text: `${a.id}: the URI in Vault has ${trap}; Airflow resolves ${masked(a.id, v.conn, backendLabel(from))}`,
        fix: (v.raw !== undefined ? trapFix(ctx, a.id, v.raw) : undefined) ?? meantUri(ctx, a.id),
      });
  }
  return { problems, lines };
}

function sameData(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const norm = (o: Record<string, unknown>) =>
    JSON.stringify(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  return norm(a) === norm(b);
}

/** Without Airflow: what Vault holds against what was seeded; a trap in another id is Airflow's to decide. */
function storedValues(ctx: Input): { problems: Problem[]; undecided: string[] } {
  const intended = intendedValues(ctx);
  const rules = rulesOf(ctx);
  const problems: Problem[] = [];
  const undecided: string[] = [];
  for (const [id, data] of ctx.connReads) {
    if (!data) continue;
    const want = intended.connections.get(id);
    const seededTrap = want && reencodable(want.value) ? uriTrap(want.value, rules) : undefined;
    // What the seeded URI was meant to say is a guess about Airflow's parsing: Airflow decides it.
    if (seededTrap) {
      undecided.push(`${id}: the URI the sandbox seeds has ${seededTrap}`);
      continue;
    }
    if (want) {
      const differs =
        !sameData(data, connectionSecret(want.value, want.format as StorageFormat, rules)) &&
        seededDiff(want, data, rules);
      if (differs)
        problems.push({
          text: `Vault holds another value for ${id} than the sandbox seeded (${differs})`,
          fix: upFix(ctx),
        });
      continue;
    }
    const raw = typeof data.conn_uri === 'string' && data.conn_uri ? data.conn_uri : undefined;
    const trap = raw ? uriTrap(raw, rules) : undefined;
    if (trap) undecided.push(`${id}: the URI in Vault has ${trap}`);
  }
  for (const [key, data] of ctx.varReads) {
    const want = intended.variables.get(key);
    if (want !== undefined && data && 'value' in data && data.value !== want)
      problems.push({
        text: `Vault holds another value for variable ${key} than the sandbox seeded`,
        fix: upFix(ctx),
      });
  }
  return { problems, undecided };
}

/** The fields where what Vault holds means something else than the seeded value, or '' when it means the same. */
function seededDiff(
  want: { value: string; format: StorageFormat },
  data: Record<string, unknown>,
  rules: UriRules,
): string {
  try {
    const e = exactFromSecret(data, rules);
    const diffs = fieldsThatDiffer(want.value, { ...e, conn_type: e.conn_type }, rules, want.format);
    return diffs.join(', ');
  } catch (err) {
    if (err instanceof ConnectionUriError) return 'a URI Airflow refuses';
    throw err;
  }
}

export const values = defineCheck({
  id: 'values',
  title: 'What Airflow resolves',
  link: 'secret shape',
  needs: ['connections', 'variables'],
  verdict: true,
  repair: true,
  async run(ctx): Promise<CheckOutcome> {
    const seen = airflowsValues(ctx);
    if (seen) {
      if (seen.problems.length)
        return fail(seen.problems.map((p) => p.text).join('; '), seen.problems[0]?.fix, seen.lines);
      return ok(
        seen.lines.length
          ? `as seeded, or shown field by field with -v (${seen.lines.length})`
          : 'nothing resolved to compare',
        seen.lines,
      );
    }
    const stored = storedValues(ctx);
    if (stored.problems.length) return fail(stored.problems.map((p) => p.text).join('; '), stored.problems[0]?.fix);
    if (stored.undecided.length) return skip(`${stored.undecided.join('; ')}: Airflow would decide what it resolves`);
    return ok('what Vault holds is what the sandbox seeded (or no seeded id to compare)');
  },
});
