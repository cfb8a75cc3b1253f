/**
 * What the sandbox meant each id to hold: for every connection and variable it seeded (the
 * seeded set in state.json, the default example included), the value its config gives, stored in
 * the format the sandbox stores connections in. Ids the sandbox did not seed have no intent here:
 * doctor shows what Airflow makes of them instead.
 */
import { airflowFeatures } from '../airflow/backend/index.js';
import type { StorageFormat } from '../airflow/spec.js';
import { DEFAULT_CONNECTION } from '../settings.js';
import type { DoctorContext } from './types.js';

export interface Intended {
  connections: Map<string, { value: string; format: StorageFormat }>;
  variables: Map<string, string>;
}

export function intendedValues(ctx: Pick<DoctorContext, 'sandbox' | 'config'>): Intended {
  const out: Intended = { connections: new Map(), variables: new Map() };
  const seeded = ctx.sandbox?.seeded;
  if (!seeded) return out;
  const config = ctx.config;
  const found = ctx.sandbox?.facts.facts.airflowVersion;
  const format: StorageFormat = config?.airflow?.format ?? (found ? airflowFeatures(found).defaultFormat : 'uri');
  const conns = config?.connections ?? {};
  for (const id of seeded.connections) {
    const value =
      conns[id] ?? (id === DEFAULT_CONNECTION.id && !Object.keys(conns).length ? DEFAULT_CONNECTION.uri : undefined);
    if (value !== undefined) out.connections.set(id, { value, format });
  }
  for (const key of seeded.variables) {
    const value = config?.variables?.[key];
    if (value !== undefined) out.variables.set(key, value);
  }
  return out;
}
