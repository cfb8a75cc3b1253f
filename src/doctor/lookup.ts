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
import { fieldNamesFix, restoreFix, storeMeantFix, trapFix, uriTrap } from './values.js';
import { userMetastore } from '../airflow/probe.js';
import { VaultError } from '../vault/client.js';
import { airflowsClient, serverClient } from './clients.js';
import { apiPath, askedAirflow, failedRequest, type IdKind, vaultAnswers } from './evidence.js';
import { type KwargOp, kwargsFix, toolMade, upFix } from './fixes.js';
import { type Kind, missFix, type Place, refusedRead, tokenView } from './policy-or-path.js';
import type { MountInfo } from '../vault/api.js';
import { effectiveMount } from './mount.js';
import { connectionFields, secretShapeProblem } from './provider-rules.js';
import { isJsonForm } from '../airflow/spec.js';
import { type CheckInput, type CheckOutcome, fail, ok, type SecretReads, skip, warn } from './types.js';

export type Input = CheckInput<'address' | 'token'>;
type Outcome = CheckOutcome<{ read: SecretReads }>;

const single = (k: Kind): IdKind => (k === 'connections' ? 'connection' : 'variable');
const prefixOf = (k: Kind) => (k === 'connections' ? 'AIRFLOW_CONN_' : 'AIRFLOW_VAR_');

/** The KV mount Airflow's token may use that holds `id` under `base`, asked with that token. */
async function heldOn(ctx: Input, base: string, id: string): Promise<string | undefined> {
  const view = await tokenView(ctx);
  if (!view) return undefined;
  const mounts = await view.client.visibleMounts().catch(() => ({}) as Record<string, MountInfo>);
  for (const m of Object.values(mounts).slice(0, 8)) {
    if (!m.kvVersion) continue;
    const data = await view.client.readSecret(m.path, secretPath(base, id), m.kvVersion).catch(() => null);
    if (data) return m.path;
  }
  return undefined;
}

/**
 * The mount_point to set back when it is null: the sandbox's mount (its config says where it
 * seeded), else the mount a '<mount>/<path>' connections_path names, else the provider's default.
 */
async function mountFor(ctx: Input, first: string, kind: Kind, id: string): Promise<Record<string, KwargOp>> {
  const seeded = ctx.config?.vault?.mount;
  if (seeded) return { mount_point: { set: seeded } };
  const held = await heldOn(ctx, first, id);
  if (held) return { mount_point: { set: held } };
  const [m, ...rest] = first.split('/').filter(Boolean);
  if (m && rest.length) return { mount_point: { set: m }, [`${kind}_path`]: { set: rest.join('/') } };
  return { mount_point: { remove: true } };
}

/**
 * Where VaultBackend reads `kind`, in the order it tries them (a list of paths, then a
 * global_secrets_path): the mount, the path under it, the KV version; or why it never reads.
 */
async function placesOf(ctx: Input, kind: Kind, ids: string[]): Promise<Place[] | Outcome> {
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
    if (bare.length)
      return {
        ...fail(
          `mount_point is null: VaultBackend takes the mount from the id itself ('<mount>/<id>'), so ${bare.join(', ')} (no '/') ${bare.length > 1 ? 'are' : 'is'} never looked up in Vault`,
          kwargsFix(ctx, await mountFor(ctx, first, kind, bare[0] ?? '')),
        ),
        link: 'mount and path',
      };
  }
  const places: Place[] = [];
  for (const b of bases) {
    const where = effectiveMount(ctx.mount, b);
    // The provider's request goes to the path with its outer slashes dropped ('/connections' reads connections/<id>).
    if (where) places.push({ mount: where.mount, base: where.path.replace(/^\/+|\/+$/g, ''), kv: ctx.kvVersion ?? 2 });
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
  const places = await placesOf(ctx, kind, known);
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
  const first = ids[0] ?? '';
  // Held nowhere Airflow's token can see: the exact step that stores it where Airflow reads, its value the user's.
  const store = storeMeantFix(ctx, { mount: at.mount, path: secretPath(at.base, first) }, single(kind));
  return {
    ...fail(
      `nothing at ${paths.join(', ')} (mount '${at.mount}', ${kind}_path '${at.base}'): Airflow says "isn't defined"`,
      (await missFix(ctx, kind, at, first)) ?? store,
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

/**
 * How a secret Airflow cannot use gets what was meant: `up` for an id the sandbox seeded; else,
 * from what Vault holds, field names renamed or dropped, a variable's only key moved to value, a
 * `uri` kept without the fields beside it; else the exact re-store with the value only the user
 * knows as a placeholder.
 */
function meantFix(ctx: Input, kind: Kind, at: Place, id: string, keys: string[]): string | undefined {
  const intended = intendedValues(ctx);
  const seeded = kind === 'connections' ? intended.connections.has(id) : intended.variables.has(id);
  if (seeded && toolMade(ctx)) return upFix(ctx);
  const where = { mount: at.mount, path: secretPath(at.base, id) };
  if (kind === 'variables') {
    const only = keys.length === 1 ? keys[0] : undefined;
    if (only !== undefined && only !== 'value' && /^[\w.-]+$/.test(only))
      return restoreFix(
        ctx,
        where,
        at.kv,
        `{"value": d["${only}"]}`,
        `the value stored under ${only} goes under value`,
      );
    return storeMeantFix(ctx, where, 'variable');
  }
  const allowed = connectionFields(ctx.airflow?.major ?? ctx.intendedAirflow?.major);
  const unknown = keys.filter((k) => !allowed.includes(k) && k !== 'conn_uri');
  if (unknown.length) return fieldNamesFix(ctx, id, unknown, at.kv);
  if (keys.includes('uri') && keys.some((k) => k !== 'uri'))
    return restoreFix(
      ctx,
      where,
      at.kv,
      '{"conn_uri": d["uri"]}',
      'the uri kept as conn_uri, the fields beside it dropped (Connection() takes one or the other)',
    );
  return storeMeantFix(ctx, where, 'connection');
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
      const uri = typeof data.conn_uri === 'string' && data.conn_uri ? data.conn_uri : undefined;
      if (problem)
        fix ??=
          (uri !== undefined ? trapFix(ctx, id, uri) : undefined) ?? meantFix(ctx, kind, at, id, Object.keys(data));
    } else if (!('value' in data)) {
      broken.push(
        `${where}: no "value" key (keys: ${Object.keys(data).join(', ') || 'none'}); VaultBackend logs a warning and returns nothing`,
      );
      fix ??= meantFix(ctx, kind, at, id, Object.keys(data));
    } else if (data.value === null) {
      broken.push(`${where}: "value" is null, which VaultBackend returns as "not found"`);
      fix ??= meantFix(ctx, kind, at, id, Object.keys(data));
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
  const places = await placesOf(ctx, kind, known);
  if (!Array.isArray(places)) return places;
  const [place] = places;
  if (!place) return skip(`no path to read ${kind} at`);
  if (!answers.length) return noneKnown(ctx, kind, place, p.listing !== undefined);
  const refused: string[] = [];
  const refusedAt: string[] = [];
  const missed: string[] = [];
  const shape: string[] = [];
  let shapeFix: string | undefined;
  for (const a of answers) {
    // Found by a later backend after Vault's raised: Vault's failure is still the set-up's.
    if (!a.vault || (a.verdict.found && !a.vault.error)) continue;
    const bad = failedRequest(a.vault);
    const read = a.vault.requests.find((r) => !apiPath(r.path).startsWith('auth/'));
    if (bad?.status === 403 && !apiPath(bad.path).startsWith('auth/')) {
      refused.push(a.id);
      refusedAt.push(apiPath(bad.path));
    } else if (bad && (bad.error || bad.status === undefined)) continue;
    else if (a.vault.error && !bad) {
      const raw = a.verdict.raw;
      const trap = raw !== undefined ? uriTrap(raw, airflowFeatures(ctx.airflow?.version ?? '3').uriRules) : undefined;
      shape.push(
        `${a.id}: Airflow cannot build it (${describeLast(a.vault.error)})${trap ? `: the URI in Vault has ${trap}` : ''}`,
      );
      // A seeded id is put back as seeded (its config re-encoded when the URI holds a trap); another
      // is stored again with its user and password encoded.
      const keys = a.verdict.secret?.keys ?? (raw !== undefined && isJsonForm(raw) ? jsonKeys(raw) : []);
      const uri = raw !== undefined && !isJsonForm(raw) ? raw : undefined;
      shapeFix ??= (uri !== undefined ? trapFix(ctx, a.id, uri) : undefined) ?? meantFix(ctx, kind, place, a.id, keys);
    } else if (read?.status === 200) {
      shape.push(`${a.id}: ${unusable(kind, a.verdict.secret)}`);
      shapeFix ??= meantFix(ctx, kind, place, a.id, a.verdict.secret?.keys ?? []);
    } else if (read?.status === 404 || !a.vault.error) missed.push(a.id);
  }
  if (refused.length) return refusedRead(ctx, kind, place, refused, refusedAt);
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
