/**
 * Step 6: write each connection and variable where VaultBackend reads it. Read first, write only
 * what differs, a bounded number at a time over one keep-alive pool, so a rerun costs no writes;
 * the jobs are made one by one as workers free up, so memory stays flat however many there are.
 */
import { StepError } from '../errors.js';
import { secretPath } from '../airflow/backend/index.js';
import { connectionSecret, mergeIntoSecret } from '../airflow/spec.js';
import { airflowFeatures } from '../airflow/backend/index.js';
import type { CreateContext, SeedResult } from './context.js';

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
function* jobsOf(s: CreateContext['settings']): Generator<Job> {
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

/** Before any write: the secrets whose other keys Airflow would choke on beside fields (mergeIntoSecret). */
async function refusedMerges(ctx: CreateContext): Promise<void> {
  const client = ctx.client!;
  const s = ctx.settings;
  const refused: string[] = [];
  await mapLimitLazy(jobsOf(s), s.connections.length + s.variables.length, CONCURRENCY, async (job) => {
    const existing = await client.readSecret(s.mount, job.path, s.kvVersion);
    const m = mergeIntoSecret(existing, job.data, job.kind, s.force);
    if ('refused' in m) refused.push(`${s.mount}/${job.path} (${m.refused.join(', ')})`);
  });
  if (refused.length === 0) return;
  throw new StepError(
    'seed',
    `${refused.length} secret(s) hold keys besides the connection, which Airflow would pass to Connection() with --format fields and fail: ${refused.slice(0, 3).join('; ')}${refused.length > 3 ? '; ...' : ''}; nothing was written`,
    'rerun with --format uri, which keeps those keys (Airflow reads only conn_uri), or with --force to replace those secrets',
  );
}

export async function seed(ctx: CreateContext): Promise<void> {
  const client = ctx.client!;
  const s = ctx.settings;
  // A dev server this run started keeps everything in memory and began empty: nothing to read
  // first, which halves the requests of a first run.
  const empty = ctx.server?.startedNow === true;
  if (!empty && !s.force && s.format === 'fields') await refusedMerges(ctx);
  const kept: string[] = [];
  const dropped: string[] = [];
  const results = await mapLimitLazy(
    jobsOf(s),
    s.connections.length + s.variables.length,
    CONCURRENCY,
    async (job): Promise<SeedResult> => {
      try {
        const existing = empty ? null : await client.readSecret(s.mount, job.path, s.kvVersion);
        const m = mergeIntoSecret(existing, job.data, job.kind, true);
        const data = 'data' in m ? m.data : job.data;
        if (existing && sameData(existing, data))
          return { kind: job.kind, id: job.id, path: `${s.mount}/${job.path}`, outcome: 'unchanged' };
        if ('kept' in m && m.kept.length) kept.push(`${s.mount}/${job.path} (${m.kept.join(', ')})`);
        if ('dropped' in m && m.dropped.length) dropped.push(`${s.mount}/${job.path} (${m.dropped.join(', ')})`);
        await client.writeSecret(s.mount, job.path, data, s.kvVersion);
        return {
          kind: job.kind,
          id: job.id,
          path: `${s.mount}/${job.path}`,
          outcome: existing ? 'updated' : 'created',
        };
      } catch (e) {
        throw new StepError(
          'seed',
          `writing ${job.kind} '${job.id}' to ${s.mount}/${job.path} failed: ${(e as Error).message}`,
          'rerun: seeding converges and skips what is already there',
        );
      }
    },
  );
  ctx.seeded = results;
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  for (const r of results) {
    if (r.outcome === 'created') created++;
    else if (r.outcome === 'updated') updated++;
    else unchanged++;
  }
  ctx.report.info(`${created} created, ${updated} updated, ${unchanged} unchanged`);
  const some = (l: string[]) => `${l.length} secret(s): ${l.slice(0, 3).join('; ')}${l.length > 3 ? '; ...' : ''}`;
  if (kept.length) ctx.report.info(`kept the keys this tool does not write in ${some(kept)}`);
  if (dropped.length) ctx.report.info(`--force replaced, dropping the keys this tool does not write, ${some(dropped)}`);
}
