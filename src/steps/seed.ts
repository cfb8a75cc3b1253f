/**
 * Step 6: write each connection and variable where VaultBackend reads it. Read first, write only
 * what differs, a bounded number at a time over one keep-alive pool, so a rerun costs no writes;
 * the jobs are made one by one as workers free up, so memory stays flat however many there are.
 */
import { StepError } from '../errors.js';
import { airflowFeatures, secretPath } from '../airflow/backend/index.js';
import { connectionSecret } from '../airflow/spec.js';
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

/** One secret: read first (unless the server began empty), written only when it differs. */
async function seedOne(client: VaultApi, s: Settings, job: Job, empty: boolean): Promise<SeedResult> {
  const where = `${s.mount}/${job.path}`;
  try {
    const existing = empty ? null : await client.readSecret(s.mount, job.path, s.kvVersion);
    if (existing && sameData(existing, job.data))
      return { kind: job.kind, id: job.id, path: where, outcome: 'unchanged' };
    await client.writeSecret(s.mount, job.path, job.data, s.kvVersion);
    return { kind: job.kind, id: job.id, path: where, outcome: existing ? 'updated' : 'created' };
  } catch (e) {
    throw new StepError(
      'seed',
      `writing ${job.kind} '${job.id}' to ${where} failed: ${(e as Error).message}`,
      'rerun: seeding converges and skips what is already there',
    );
  }
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
  const seeded = await mapLimitLazy(jobsOf(s), count, CONCURRENCY, (job) => seedOne(ctx.client, s, job, empty));
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (const r of seeded) counts[r.outcome]++;
  ctx.report.info(`${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged`);
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
