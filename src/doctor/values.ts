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
import { envVarFix, serverCli, upFix } from './fixes.js';
import { intendedValues } from './intended.js';
import { effectiveMount } from './mount.js';
import { secretPath } from '../airflow/backend/index.js';
import { type CheckInput, type CheckOutcome, defineCheck, fail, ok, skip } from './types.js';

type Input = CheckInput<'connections' | 'variables'>;

interface Problem {
  text: string;
  fix?: string;
}

/**
 * A `/`, `?` or `#` in a URI's user or password: Python's urlsplit ends the authority at the first
 * of them, so Airflow reads a port (or a host) out of the password, or refuses the URI. Written
 * percent-encoded (%2F, %3F, %23) they are the password's own.
 */
export function rawInUserinfo(raw: string): boolean {
  const scheme = raw.indexOf('://');
  if (scheme < 0) return false;
  const rest = raw.slice(scheme + 3);
  const at = rest.lastIndexOf('@');
  return at > 0 && /[/?#]/.test(rest.slice(0, at));
}

/** Why Airflow resolves a stored URI as something else than it reads as, or undefined. */
export function uriTrap(raw: string, rules: UriRules): string | undefined {
  if (isJsonForm(raw)) return undefined;
  if (rawInUserinfo(raw))
    return 'a raw /, ? or # in the user or password (Airflow ends the host part there: the port or host comes from the password, or the URI is refused)';
  if (urlsplit(raw).fragment !== '' || raw.includes('#'))
    return 'an unescaped # (Airflow takes the rest of the URI as a fragment and drops it)';
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

type Where = Pick<Input, 'mount' | 'connectionsPath' | 'sandbox' | 'env' | 'access'>;

/** Where a connection secret lives, as VaultBackend reads it. */
function secretAt(ctx: Where, id: string): { mount: string; path: string } | undefined {
  const where = effectiveMount(ctx.mount, ctx.connectionsPath);
  return where ? { mount: where.mount, path: secretPath(where.path, id) } : undefined;
}

/**
 * A command that stores the URI again with its user and password percent-encoded (a `#`, `/` or `?`
 * in a password must be written %23, %2F, %3F), read from and written back to Vault: nothing secret
 * is printed. Needs a token that may write there (the sandbox .env's VAULT_TOKEN does).
 */
export function reencodeFix(ctx: Where, id: string): string | undefined {
  const at = secretAt(ctx, id);
  if (!at) return undefined;
  const bin = `${serverCli(ctx)} kv`;
  const py =
    'import sys,urllib.parse as p; u=sys.stdin.read().strip(); s,r=u.split("://",1); a,h=r.rsplit("@",1); l,c,w=a.partition(":"); q=lambda x: p.quote(p.unquote(x),safe=""); print(s+"://"+q(l)+(":"+q(w) if c else "")+"@"+h, end="")';
  const loc = `-address=${shellArg(ctx.access.url)} -mount=${shellArg(at.mount)} ${shellArg(at.path)}`;
  return `${bin} get -field=conn_uri ${loc} | python3 -c '${py}' | ${bin} put ${loc} conn_uri=-`;
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
        fix: v.raw !== undefined && rawInUserinfo(v.raw) ? reencodeFix(ctx, a.id) : undefined,
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
