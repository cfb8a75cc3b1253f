/**
 * File order: vitest's own (slowest first, from the last run), with the `*.airflow.test.ts` files
 * spread out among the others. Those files take a machine-wide lock (airflow-lock.ts), so two of
 * them next to each other in the queue would leave one worker waiting on the lock instead of
 * running an e2e file.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const isAirflowFile = (file: string): boolean => file.endsWith('.airflow.test.ts');

export function interleave<T>(items: T[], heavy: (t: T) => boolean): T[] {
  const a = items.filter(heavy);
  const rest = items.filter((t) => !heavy(t));
  if (a.length === 0 || rest.length === 0) return items;
  const gap = rest.length / a.length;
  const out: T[] = [];
  let r = 0;
  for (let i = 0; i < a.length; i++) {
    out.push(a[i]!);
    const until = Math.ceil((i + 1) * gap);
    while (r < until && r < rest.length) out.push(rest[r++]!);
  }
  while (r < rest.length) out.push(rest[r++]!);
  return out;
}

export default class AirflowAwareSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return interleave(sorted, (s) => isAirflowFile(s.moduleId));
  }
}
