/**
 * Step 6: write each connection and variable where VaultBackend reads it. Read first, write only
 * what differs, a bounded number at a time over one keep-alive pool, so a rerun costs no writes;
 * the jobs are made one by one as workers free up, so memory stays flat however many there are.
 */
import { StepError } from '../errors.js';
import { airflowFeatures, secretPath } from '../airflow/backend/index.js';
import { connectionSecret, mergeIntoSecret } from '../airflow/spec.js';
import { recordSeeded } from '../sandbox/index.js';
import type { Settings } from '../settings.js';
import type { VaultApi } from '../vault/api.js';
import { defineStep, type FlowContext, type SeedResult, type StepContext } from './context.js';

const CONCURRENCY = 16;

/** The key/values stored for one connection (URI or JSON form) per storage format: src/airflow/spec.ts. */
export { connectionSecret };

function sameData(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && JSON.stringify(a[k]) === JSON.stringify(b[k]));
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  return mapLimitLazy(items, items.length, limit, fn);
}

/**
 * Runs `fn` over `items`, at most `limit` at a time, pulling each item only when a worker is free:
 * with a generator, no more than `limit` items (and their requests) exist at once, however many
 * there are. Results keep the items' order.
 */
export async function mapLimitLazy<T, R>(
  items: Iterable<T>,
  count: number,
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(count);
  const it = items[Symbol.iterator]();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const step = it.next();
      if (step.done) return;
      const i = next++;
      results[i] = await fn(step.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
  return results;
}

interface Job {
  kind: 'connection' | 'variable';
  id: string;
  path: string;
  data: Record<string, unknown>;
}

/** One job at a time, made when a worker asks for it (a URI is parsed only then). */
function* jobsOf(s: Settings): Generator<Job> {
  const rules = airflowFeatures(s.airflowVersion).uriRules;
  for (const c of s.connections)
    yield {
      kind: 'connection',
      id: c.id,
      path: secretPath(s.connectionsPath, c.id),
      data: connectionSecret(c.uri, s.format, rules),
    };
  for (const v of s.variables)
    yield { kind: 'variable', id: v.key, path: secretPath(s.variablesPath, v.key), data: { value: v.value } };
}

/** What became of the keys of existing secrets this tool does not write (mergeIntoSecret). */
interface OtherKeys {
  kept: string[];
  dropped: string[];
}

/**
 * One secret: read first (unless the server began empty), written only when it differs; keys of
 * the existing secret this tool does not write are kept where Airflow ignores them.
 */
async function seedOne(client: VaultApi, s: Settings, job: Job, empty: boolean, other: OtherKeys): Promise<SeedResult> {
  const where = `${s.mount}/${job.path}`;
  try {
    const existing = empty ? null : await client.readSecret(s.mount, job.path, s.kvVersion);
    // Refusals were said before any write (refuseMerges): what is left is to keep or to drop.
    const m = mergeIntoSecret(existing, job.data, job.kind, true);
    const data = 'data' in m ? m.data : job.data;
    if (existing && sameData(existing, data)) return { kind: job.kind, id: job.id, path: where, outcome: 'unchanged' };
    if ('kept' in m && m.kept.length) other.kept.push(`${where} (${m.kept.join(', ')})`);
    if ('dropped' in m && m.dropped.length) other.dropped.push(`${where} (${m.dropped.join(', ')})`);
    await client.writeSecret(s.mount, job.path, data, s.kvVersion);
    return { kind: job.kind, id: job.id, path: where, outcome: existing ? 'updated' : 'created' };
  } catch (e) {
    throw new StepError(
      'seed',
      `writing ${job.kind} '${job.id}' to ${where} failed: ${(e as Error).message}`,
      'rerun: seeding converges and skips what is already there',
    );
  }
}

const some = (l: string[]) => `${l.length} secret(s): ${l.slice(0, 3).join('; ')}${l.length > 3 ? '; ...' : ''}`;

/**
 * Before any write: the existing secrets whose other keys Airflow would choke on beside fields
 * (Connection() takes the whole secret), refused unless --force, naming them.
 */
async function refuseMerges(client: VaultApi, s: Settings, count: number): Promise<void> {
  const refused: string[] = [];
  await mapLimitLazy(jobsOf(s), count, CONCURRENCY, async (job) => {
    const existing = await client.readSecret(s.mount, job.path, s.kvVersion).catch((e: unknown) => {
      throw new StepError(
        'seed',
        `reading ${job.kind} '${job.id}' at ${s.mount}/${job.path} failed: ${(e as Error).message}; nothing was written`,
        'rerun: seeding converges and skips what is already there',
      );
    });
    const m = mergeIntoSecret(existing, job.data, job.kind, false);
    if ('refused' in m) refused.push(`${s.mount}/${job.path} (${m.refused.join(', ')})`);
  });
  if (refused.length === 0) return;
  throw new StepError(
    'seed',
    `${some(refused)} hold keys besides the connection, which Airflow would pass to Connection() with --format fields and fail; nothing was written`,
    'rerun with --format uri, which keeps those keys (Airflow reads only conn_uri), or with --force to replace those secrets',
  );
}

async function seed(ctx: StepContext<'client'>) {
  const s = ctx.settings;
  // The seeded set is a fact recorded before the writes: doctor asks about exactly these ids.
  recordSeeded(ctx.paths, 'seed', {
    connections: s.connections.map((c) => c.id),
    variables: s.variables.map((v) => v.key),
  });
  // A dev server this run started keeps everything in memory and began empty: nothing to read
  // first, which halves the requests of a first run.
  const empty = ctx.server?.startedNow === true;
  const count = s.connections.length + s.variables.length;
  if (!empty && !s.force && s.format === 'fields') await refuseMerges(ctx.client, s, count);
  const other: OtherKeys = { kept: [], dropped: [] };
  const seeded = await mapLimitLazy(jobsOf(s), count, CONCURRENCY, (job) => seedOne(ctx.client, s, job, empty, other));
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (const r of seeded) counts[r.outcome]++;
  ctx.report.info(`${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged`);
  if (other.kept.length) ctx.report.info(`kept the keys this tool does not write in ${some(other.kept)}`);
  if (other.dropped.length)
    ctx.report.info(`--force replaced, dropping the keys this tool does not write, ${some(other.dropped)}`);
  return { seeded };
}

/** The secrets the seed step writes, in the order it writes them. */
export function secretPaths(s: Settings): string[] {
  return [
    ...s.connections.map((c) => `${s.mount}/${secretPath(s.connectionsPath, c.id)}`),
    ...s.variables.map((v) => `${s.mount}/${secretPath(s.variablesPath, v.key)}`),
  ];
}

const NOTHING_WRITTEN_THERE = 'an existing Vault: nothing is written there without --seed';

export const seedStep = defineStep({
  title: 'Seed connections and variables',
  needs: ['client'],
  plan: (ctx: FlowContext) => ({ lines: secretPaths(ctx.settings).map((p) => `would write ${p} (where it differs)`) }),
  run: seed,
  skip: (ctx) => (ctx.settings.existing && !ctx.settings.existing.seed ? NOTHING_WRITTEN_THERE : undefined),
});
