/**
 * Each connection or variable where VaultBackend reads it. With Airflow asked, from Airflow's own
 * lookup (the request it sent and what Vault answered: no second read); without, one read per id
 * with Airflow's own rights. Names what stops Airflow: the path (nothing there), the policy (a 403,
 * with the policy line that would allow it), or the secret's shape (what the provider cannot build
 * from it). A miss another source answers (an AIRFLOW_CONN_ variable, the metastore) is said as such.
 */
import { existsSync } from 'node:fs';
import { airflowFeatures, secretPath } from '../airflow/backend/index.js';
import { intendedValues } from './intended.js';
import { fieldNamesFix, trapFix, uriTrap } from './values.js';
import { userMetastore } from '../airflow/probe.js';
import { judgePolicy, kvApiPath, POLICY_NAME, policyLine, readGlob } from '../vault/auth/policy.js';
import { POLICY_READ, readUserFileIfExists } from '../io/read.js';
import { POLICY_FILE } from '../sandbox/index.js';
import { VaultError, type VaultClient } from '../vault/client.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { airflowsClient, serverClient } from './clients.js';
import { apiPath, askedAirflow, failedRequest, type IdKind, vaultAnswers } from './evidence.js';
import { kwargsFix, serverCli, toolMade, upFix } from './fixes.js';
import { effectiveMount } from './mount.js';
import { connectionFields, secretShapeProblem } from './provider-rules.js';
import { isJsonForm } from '../airflow/spec.js';
import { type CheckInput, type CheckOutcome, fail, ok, type SecretReads, skip, warn } from './types.js';

type Kind = 'connections' | 'variables';
export type Input = CheckInput<'address' | 'token'>;
type Outcome = CheckOutcome<{ read: SecretReads }>;

const single = (k: Kind): IdKind => (k === 'connections' ? 'connection' : 'variable');
const prefixOf = (k: Kind) => (k === 'connections' ? 'AIRFLOW_CONN_' : 'AIRFLOW_VAR_');

interface Place {
  mount: string;
  base: string;
  kv: 1 | 2;
}

/**
 * Where VaultBackend reads `kind`, in the order it tries them (a list of paths, then a
 * global_secrets_path): the mount, the path under it, the KV version; or why it never reads.
 */
function placesOf(ctx: Input, kind: Kind, ids: string[]): Place[] | Outcome {
  const bases = kind === 'connections' ? ctx.access.connectionsPaths : ctx.access.variablesPaths;
  const pathKey = `${kind}_path`;
  if (bases === null) {
    if (!ids.length) return ok(`${pathKey} is null: Airflow does not ask Vault for ${kind}, and none are expected`);
    return {
      ...fail(
        `${pathKey} is null: Airflow never asks Vault for ${kind}, so ${ids.join(', ')} cannot come from Vault`,
        kwargsFix(ctx, { [pathKey]: { remove: true } }),
      ),
      link: 'mount and path',
    };
  }
  const first = bases[0] ?? '';
  if (ctx.mount === null) {
    // VaultBackend._parse_path: with no mount_point the id itself must be '<mount>/<id>'; a bare id is never looked up.
    const bare = ids.filter((id) => !id.includes('/'));
    if (bare.length) {
      const [m, ...rest] = first.split('/').filter(Boolean);
      return {
        ...fail(
          `mount_point is null: VaultBackend takes the mount from the id itself ('<mount>/<id>'), so ${bare.join(', ')} (no '/') ${bare.length > 1 ? 'are' : 'is'} never looked up in Vault`,
          kwargsFix(ctx, { mount_point: { set: m ?? 'secret' }, [pathKey]: { set: rest.join('/') || kind } }),
        ),
        link: 'mount and path',
      };
    }
  }
  const places: Place[] = [];
  for (const b of bases) {
    const where = effectiveMount(ctx.mount, b);
    if (where) places.push({ mount: where.mount, base: where.path, kv: ctx.kvVersion ?? 2 });
  }
  if (!places.length)
    return { ...fail(`mount_point is null and ${pathKey} '${first}' names no mount`), link: 'mount and path' };
  return places;
}

/** Whether Airflow's metastore may hold an id Vault misses (a metastore doctor cannot read). */
function metastoreMayAnswer(ctx: Input): boolean {
  const m = userMetastore(ctx.env, ctx.backend.cfgFile);
  return m.named || (m.sqliteFile !== undefined && existsSync(m.sqliteFile));
}

/** Where the sandbox put what Airflow misses, when that is elsewhere than where Airflow reads. */
function seededElsewhere(ctx: Input, kind: Kind, at: Place): string | undefined {
  const v = ctx.config?.vault;
  if (!ctx.sandbox || !v) return undefined;
  const pathKey = kind === 'connections' ? 'connections_path' : 'variables_path';
  const seededBase = (kind === 'connections' ? v.connections_path : v.variables_path) ?? kind;
  const seededMount = v.mount ?? 'secret';
  const ops: Record<string, { set: unknown }> = {};
  if (seededMount !== at.mount) ops.mount_point = { set: seededMount };
  if (seededBase !== at.base) ops[pathKey] = { set: seededBase };
  return Object.keys(ops).length ? kwargsFix(ctx, ops) : undefined;
}

/** With the server's own token: the folder under the mount that holds the id, one level down. */
async function foundUnder(admin: VaultClient, at: Place, id: string): Promise<string | undefined> {
  const top = await admin.listSecrets(at.mount, '', at.kv).catch(() => [] as string[]);
  const folders = ['', ...top.filter((k) => k.endsWith('/')).map((k) => k.replace(/\/$/, ''))].slice(0, 50);
  for (const f of folders) {
    if (f === at.base) continue;
    const data = await admin.readSecret(at.mount, secretPath(f, id), at.kv).catch(() => null);
    if (data) return f;
  }
  return undefined;
}

async function missFix(ctx: Input, kind: Kind, at: Place, id: string): Promise<string | undefined> {
  const elsewhere = seededElsewhere(ctx, kind, at);
  if (elsewhere) return elsewhere;
  const admin = serverClient(ctx);
  const folder = admin ? await foundUnder(admin, at, id) : undefined;
  if (folder !== undefined) return kwargsFix(ctx, { [`${kind}_path`]: { set: folder } });
  return upFix(ctx);
}

/**
 * The read rule Airflow's policy lacks, as a step that lasts. A sandbox this tool made writes its
 * policy from policy.hcl on every run (a policy changed in Vault is undone by the next, and a
 * login's .env holds no token that may write policies): when policy.hcl grants the read, the rerun
 * puts it back; else the rule goes into policy.hcl, and the rerun writes it. Elsewhere, a command
 * that adds the rule to the token's own policy (run with a token that may write policies).
 */
export function policyFix(ctx: Pick<Input, 'sandbox' | 'login' | 'env' | 'access'>, at: Place, id = 'x'): string {
  const rule = policyLine(readGlob(at.mount, at.base, at.kv));
  const sb = toolMade(ctx);
  if (sb && ctx.login.policies.includes(POLICY_NAME)) {
    const rerun = `${selfCommand()} up ${shellArg(sb.dir)}`;
    const hcl = readUserFileIfExists(sb.paths.policy, POLICY_READ);
    if (hcl !== null && judgePolicy(hcl, at.mount, secretPath(at.base, id), at.kv).grants)
      return `${rerun}  # writes ${POLICY_FILE}, which grants the read, back to Vault`;
    return `put this in ${shellArg(sb.paths.policy)} and rerun (${rerun}): ${rule.replace(/\s*\n\s*/g, ' ')}`;
  }
  const name = ctx.login.policies.find((p) => p !== 'default' && p !== 'root') ?? 'airflow';
  const line = rule.replace(/\n/g, '\\n');
  const bin = serverCli(ctx);
  const addr = `-address=${shellArg(ctx.access.url)}`;
  return `{ ${bin} policy read ${addr} ${shellArg(name)} 2>/dev/null; printf '\\n${line}\\n'; } | ${bin} policy write ${addr} ${shellArg(name)} -`;
}

async function policyHint(ctx: Input, at: Place): Promise<string> {
  const glob = readGlob(at.mount, at.base, at.kv);
  const names = ctx.login.policies.filter((p) => p !== 'default' && p !== 'root');
  const admin = serverClient(ctx);
  let written = '';
  if (admin) {
    for (const n of names) {
      const text = await admin.readPolicy(n).catch(() => null);
      const wrongGlob = `${at.mount}/${at.base}/*`;
      if (text && at.kv === 2 && text.includes(`"${wrongGlob}"`))
        written = ` Policy '${n}' grants "${wrongGlob}", but on KV v2 the API path is ${kvApiPath(at.mount, at.base, at.kv)}/<id>, so it grants nothing there.`;
    }
  }
  return `${written} Needed: ${policyLine(glob).replace(/\s*\n\s*/g, ' ')}`;
}

/** A 403 on the read: the policy's when the secret is there, the path's when nothing is (a wrong path answers 403 too). */
async function refusedRead(ctx: Input, kind: Kind, at: Place, ids: string[]): Promise<Outcome> {
  const admin = serverClient(ctx);
  const paths = ids.map((id) => `${at.mount}/${secretPath(at.base, id)}`);
  if (admin) {
    const there = await Promise.all(
      ids.map((id) => admin.readSecret(at.mount, secretPath(at.base, id), at.kv).catch(() => null)),
    );
    const missing = ids.filter((_, i) => !there[i]);
    if (missing.length === ids.length) {
      const fix = await missFix(ctx, kind, at, ids[0] ?? '');
      return {
        ...fail(
          `nothing at ${paths.join(', ')} (mount '${at.mount}', ${kind}_path '${at.base}'); Vault answers Airflow's token 403 there, as it does for any path its policy does not grant`,
          fix,
        ),
        link: 'mount and path',
      };
    }
  }
  const hint = await policyHint(ctx, at);
  return {
    ...fail(
      `Airflow's token may not read ${paths.join(', ')} (HTTP 403: its policies ${ctx.login.policies.join(', ') || 'none'} do not grant read there).${hint}`,
      policyFix(ctx, at, ids[0]),
    ),
    link: 'policy',
  };
}

/** An id Vault misses: who else answers for it, if anyone; undefined when nobody does (a proven miss). */
function standIn(ctx: Input, kind: Kind, id: string): CheckOutcome | undefined {
  const name = `${prefixOf(kind)}${id.toUpperCase()}`;
  if (ctx.env.get(name) !== undefined)
    return {
      ...warn(`Vault does not hold ${id}, but ${name} does: Airflow resolves it from that variable, not from Vault`),
      link: 'shadowing',
    };
  if (metastoreMayAnswer(ctx))
    return skip(`Vault does not hold ${id}; whether Airflow's metastore does, only Airflow can tell`);
  return undefined;
}

/** The ids doctor asks about: known ones, else those Vault lists where Airflow looks. */
async function idsToAsk(ctx: Input, kind: Kind, at: Place | undefined): Promise<string[]> {
  const known = (kind === 'connections' ? ctx.connIds : ctx.varKeys) ?? [];
  if (known.length || !at) return known;
  // A least-privilege token may read but not list: list with the sandbox's own token when there is one.
  const lister = serverClient(ctx) ?? airflowsClient(ctx);
  const listed = lister ? await lister.listSecrets(at.mount, at.base, at.kv).catch(() => [] as string[]) : [];
  return listed.filter((k) => !k.endsWith('/'));
}

function noneKnown(ctx: Input, kind: Kind, at: Place, listed: boolean): Outcome {
  const where = listed ? `, and none listed under ${at.mount}/${at.base}/` : '';
  const seeded = kind === 'connections' ? ctx.sandbox?.seeded?.connections : ctx.sandbox?.seeded?.variables;
  if (seeded && !seeded.length) return ok(`none seeded by the sandbox${where}`);
  const c = ctx.sandbox?.config;
  const from = !c ? 'not a sandbox' : c.exists ? `${c.label} lists none` : `no ${c.label}`;
  return warn(`no ${kind} known (${from})${where}`);
}

/** Without Airflow: one read per id, with Airflow's rights. */
export async function readAsAirflow(ctx: Input, kind: Kind): Promise<Outcome> {
  const known = (kind === 'connections' ? ctx.connIds : ctx.varKeys) ?? [];
  const places = placesOf(ctx, kind, known);
  if (!Array.isArray(places)) return places;
  const [place] = places;
  if (!place) return skip(`no path to read ${kind} at`);
  const client = airflowsClient(ctx);
  if (!client) return skip(`reading ${kind} needs Airflow's token, whose uses doctor does not spend`);
  const ids = await idsToAsk(ctx, kind, place);
  if (!ids.length) return noneKnown(ctx, kind, place, true);
  const read: SecretReads = new Map();
  const refused: string[] = [];
  const missed: string[] = [];
  const errors: string[] = [];
  const covered: CheckOutcome[] = [];
  for (const id of ids) {
    // As the provider does: each path in turn until one holds the id; a refusal ends the lookup.
    let data: Record<string, unknown> | null = null;
    try {
      for (const at of places) {
        data = await client.readSecret(at.mount, secretPath(at.base, id), at.kv);
        if (data) break;
      }
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      if (e.status === 403) refused.push(id);
      else errors.push(`${id}: ${e.message}`);
      continue;
    }
    read.set(id, data);
    if (!data) {
      const other = standIn(ctx, kind, id);
      if (other) covered.push(other);
      else missed.push(id);
    }
  }
  if (refused.length) return refusedRead(ctx, kind, place, refused);
  if (missed.length) return nothingAt(ctx, kind, place, missed);
  if (errors.length) return { ...fail(errors.join('; ')), link: 'address/TLS/proxy' };
  const shape = shapeProblems(ctx, kind, place, read);
  if (shape) return { ...shape, facts: { read } };
  const undecided = covered.find((c) => c.status === 'skip');
  if (undecided) return undecided;
  if (covered.length) return { ...covered[0], facts: { read } } as Outcome;
  return ok(`${ids.length} found where VaultBackend looks: ${ids.join(', ')}`, undefined, { read });
}

async function nothingAt(ctx: Input, kind: Kind, at: Place, ids: string[]): Promise<Outcome> {
  const paths = ids.map((id) => `${at.mount}/${secretPath(at.base, id)}`);
  return {
    ...fail(
      `nothing at ${paths.join(', ')} (mount '${at.mount}', ${kind}_path '${at.base}'): Airflow says "isn't defined"`,
      await missFix(ctx, kind, at, ids[0] ?? ''),
    ),
    link: 'mount and path',
  };
}

/** The keys of the fields Airflow was handed as JSON (the provider's json.dumps of the secret). */
function jsonKeys(raw: string): string[] {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
  } catch {
    return [];
  }
}

/** For an id the sandbox seeded: `up` puts it back as its config says. */
function seededFix(ctx: Input, id: string): string | undefined {
  return toolMade(ctx) && intendedValues(ctx).connections.has(id) ? upFix(ctx) : undefined;
}

/** The keys of a connection secret Connection() refuses, stored again without them (or renamed). */
function unknownFieldsFix(ctx: Input, at: Place, id: string, keys: string[]): string | undefined {
  if (keys.includes('conn_uri')) return undefined;
  const allowed = connectionFields(ctx.airflow?.major ?? ctx.intendedAirflow?.major);
  return fieldNamesFix(
    ctx,
    id,
    keys.filter((k) => !allowed.includes(k)),
    at.kv,
  );
}

/** What the provider cannot turn into a connection or a variable. */
function shapeProblems(ctx: Input, kind: Kind, at: Place, read: SecretReads): Outcome | undefined {
  const broken: string[] = [];
  let fix: string | undefined;
  for (const [id, data] of read) {
    if (!data) continue;
    const where = `${id} (${at.mount}/${secretPath(at.base, id)})`;
    if (kind === 'connections') {
      const problem = secretShapeProblem(data, ctx.airflow?.major ?? ctx.intendedAirflow?.major);
      if (problem) broken.push(`${where}: ${problem}`);
      if (problem) fix ??= seededFix(ctx, id) ?? unknownFieldsFix(ctx, at, id, Object.keys(data));
    } else if (!('value' in data)) {
      broken.push(
        `${where}: no "value" key (keys: ${Object.keys(data).join(', ') || 'none'}); VaultBackend logs a warning and returns nothing`,
      );
    } else if (data.value === null) {
      broken.push(`${where}: "value" is null, which VaultBackend returns as "not found"`);
    }
  }
  if (!broken.length) return undefined;
  return { ...fail(broken.join('; '), fix ?? upFix(ctx)), link: 'secret shape' };
}

/** With Airflow asked: its own lookup of each id, read from the requests its Vault backend sent. */
export async function airflowsLookups(ctx: Input, kind: Kind): Promise<Outcome | undefined> {
  const p = askedAirflow(ctx);
  if (!p) return undefined;
  const answers = vaultAnswers(p, single(kind));
  const known = answers.map((a) => a.id);
  const places = placesOf(ctx, kind, known);
  if (!Array.isArray(places)) return places;
  const [place] = places;
  if (!place) return skip(`no path to read ${kind} at`);
  if (!answers.length) return noneKnown(ctx, kind, place, p.listing !== undefined);
  const refused: string[] = [];
  const missed: string[] = [];
  const shape: string[] = [];
  let shapeFix: string | undefined;
  for (const a of answers) {
    // Found by a later backend after Vault's raised: Vault's failure is still the set-up's.
    if (!a.vault || (a.verdict.found && !a.vault.error)) continue;
    const bad = failedRequest(a.vault);
    const read = a.vault.requests.find((r) => !apiPath(r.path).startsWith('auth/'));
    if (bad?.status === 403 && !apiPath(bad.path).startsWith('auth/')) refused.push(a.id);
    else if (bad && (bad.error || bad.status === undefined)) continue;
    else if (a.vault.error && !bad) {
      const raw = a.verdict.raw;
      const trap = raw !== undefined ? uriTrap(raw, airflowFeatures(ctx.airflow?.version ?? '3').uriRules) : undefined;
      shape.push(
        `${a.id}: Airflow cannot build it (${describeLast(a.vault.error)})${trap ? `: the URI in Vault has ${trap}` : ''}`,
      );
      // A seeded id is put back as seeded (its config re-encoded when the URI holds a trap); another
      // is stored again with its user and password encoded.
      const keys = a.verdict.secret?.keys ?? (raw !== undefined && isJsonForm(raw) ? jsonKeys(raw) : []);
      if (raw !== undefined && !isJsonForm(raw)) shapeFix ??= trapFix(ctx, a.id, raw);
      else shapeFix ??= seededFix(ctx, a.id) ?? unknownFieldsFix(ctx, place, a.id, keys);
    } else if (read?.status === 200) shape.push(`${a.id}: ${unusable(kind, a.verdict.secret)}`);
    else if (read?.status === 404 || !a.vault.error) missed.push(a.id);
  }
  if (refused.length) return refusedRead(ctx, kind, place, refused);
  if (missed.length) return nothingAt(ctx, kind, place, missed);
  if (shape.length)
    return {
      ...fail(shape.join('; '), shapeFix ?? upFix(ctx)),
      link: 'secret shape',
    };
  const found = answers.filter((a) => a.verdict.found).map((a) => a.id);
  return ok(
    `Airflow's own lookup finds ${found.length} of ${answers.length}: ${found.join(', ') || 'none'}`,
    undefined,
    {
      read: new Map(),
    },
  );
}

/** Why VaultBackend returns nothing for a secret Vault holds, from its keys (the probe never sees a value). */
export function unusable(kind: Kind, secret: { keys: string[]; null: string[] } | undefined): string {
  if (!secret) return 'Vault holds it, but VaultBackend returns nothing for it';
  if (!secret.keys.length) return 'Vault holds an empty secret there, which VaultBackend returns as "not found"';
  if (kind === 'variables') {
    if (!secret.keys.includes('value'))
      return `no "value" key (keys: ${secret.keys.join(', ')}); VaultBackend logs a warning and returns nothing`;
    if (secret.null.includes('value')) return '"value" is null, which VaultBackend returns as "not found"';
  }
  return `Vault holds it (keys: ${secret.keys.join(', ')}), but VaultBackend returns nothing for it`;
}

function describeLast(chain: { name: string; message: string }[]): string {
  const e = chain[chain.length - 1];
  return e ? `${e.name}: ${e.message.replace(/\s+/g, ' ').slice(0, 200)}` : 'an error';
}

export async function lookupAll(ctx: Input, kind: Kind): Promise<Outcome> {
  const o = (await airflowsLookups(ctx, kind)) ?? (await readAsAirflow(ctx, kind));
  // A pass with nothing read (nothing expected, or Airflow's own lookup) hands on an empty read.
  const passing = o.status === 'ok' || o.status === 'warn';
  return passing && !o.facts ? { ...o, facts: { read: new Map() } } : o;
}
