/**
 * Step 6: write each connection and variable where VaultBackend reads it. Read first, write only
 * what differs, a bounded number at a time over one keep-alive pool, so a rerun costs no writes.
 */
import { StepError } from '../errors.js';
import { secretPath } from '../airflow/backend.js';
import { connectionSecret } from '../airflow/spec.js';
import { uriRules } from '../airflow/backend.js';
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
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function seed(ctx: CreateContext): Promise<void> {
  const client = ctx.client!;
  const s = ctx.settings;
  const jobs = [
    ...s.connections.map((c) => ({ kind: 'connection' as const, id: c.id, path: secretPath(s.connectionsPath, c.id), data: connectionSecret(c.uri, s.format, uriRules(s.airflowVersion)) })),
    ...s.variables.map((v) => ({ kind: 'variable' as const, id: v.key, path: secretPath(s.variablesPath, v.key), data: { value: v.value } })),
  ];
  const results = await mapLimit(jobs, CONCURRENCY, async (job): Promise<SeedResult> => {
    try {
      const existing = await client.readSecret(s.mount, job.path, s.kvVersion);
      if (existing && sameData(existing, job.data)) return { kind: job.kind, id: job.id, path: `${s.mount}/${job.path}`, outcome: 'unchanged' };
      await client.writeSecret(s.mount, job.path, job.data, s.kvVersion);
      return { kind: job.kind, id: job.id, path: `${s.mount}/${job.path}`, outcome: existing ? 'updated' : 'created' };
    } catch (e) {
      throw new StepError('seed', `writing ${job.kind} '${job.id}' to ${s.mount}/${job.path} failed: ${(e as Error).message}`, 'rerun: seeding converges and skips what is already there');
    }
  });
  ctx.seeded = results;
  const count = (o: string) => results.filter((r) => r.outcome === o).length;
  ctx.report.info(`${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged`);
}
