/**
 * Precedence, and nothing else: flags beat the config file, which beats the environment, which
 * beats the defaults. Pure (no I/O), so the order is unit-tested on its own. Discovery (binaries,
 * Airflow, imports) is a separate step that runs after this one.
 */
import { SETTINGS, type SettingKey, type SettingRow } from './schema.js';

export type Source = 'flag' | 'config' | 'env' | 'default';
export type Layer = Partial<Record<SettingKey, unknown>>;

export interface Merged {
  values: Layer;
  /** Where each value came from; a key without a value has no source. */
  source: Partial<Record<SettingKey, Source>>;
}

/** Entry lists (connections, variables): key/value pairs, merged by key. */
export type Entries = readonly (readonly [string, string])[];

export function merge(flags: Layer, config: Layer, env: Layer, defaults: Layer): Merged {
  const values: Layer = {};
  const source: Merged['source'] = {};
  const layers: [Source, Layer][] = [
    ['flag', flags],
    ['config', config],
    ['env', env],
    ['default', defaults],
  ];
  for (const r of SETTINGS as readonly SettingRow[]) {
    const key = r.key as SettingKey;
    if (r.type === 'list' && r.config) {
      // Lists that live in the config (connections, variables) add up: the flag's entries replace the config's by key.
      const parts = layers.filter(([, l]) => l[key] !== undefined);
      if (parts.length === 0) continue;
      values[key] = mergeEntries(...parts.map(([, l]) => l[key] as Entries).reverse());
      const [first] = parts;
      if (first) source[key] = first[0];
      continue;
    }
    for (const [name, layer] of layers) {
      if (layer[key] !== undefined) {
        values[key] = layer[key];
        source[key] = name;
        break;
      }
    }
  }
  return { values, source };
}

/**
 * Later layers replace earlier ones entry by entry; first-seen order is kept. A Map makes it
 * linear: 100,000 imported connections merge in milliseconds.
 */
export function mergeEntries(...layers: Entries[]): [string, string][] {
  const m = new Map<string, string>();
  for (const layer of layers) for (const [k, v] of layer) m.set(k, v);
  return [...m];
}
