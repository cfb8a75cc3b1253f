/**
 * The generator: a set-up is a base (made by the tool or by hand, with the user's choices) on one
 * Airflow major, a few benign operators, and at most one breaking operator, which is its KNOWN
 * CAUSE. fast-check draws the choices (fixed seed: the same sample every run); the operators'
 * pure `when`/`facts`/`breaks` turn them into the operators that apply and the cause, without
 * building anything.
 */
import { fc } from '@fast-check/vitest';
import { baseFacts, type BaseSpec } from './bases.js';
import type { Op } from './op.js';
import { SECRET_OPS } from './ops-secrets.js';
import { SETTINGS_OPS } from './ops-settings.js';
import { VAULT_OPS } from './ops-vault.js';
import type { Facts, KnownCause, Major } from './world.js';

export const OPS: Op[] = [...SETTINGS_OPS, ...VAULT_OPS, ...SECRET_OPS];
export const OP_BY_ID = new Map(OPS.map((o) => [o.id, o]));
const BENIGN = OPS.filter((o) => o.kind === 'benign' && !o.namedOnly).map((o) => o.id);
const BREAKING = OPS.filter((o) => o.kind === 'breaking' && !o.namedOnly).map((o) => o.id);

export interface SetUpSpec {
  /** Numbers the set-up across a run: its ids are c<n> and v<n>, its dir setup-<n>. */
  n: number;
  major: Major;
  base: BaseSpec;
  /** The operators that apply, in order. */
  ops: string[];
  /** The operator that breaks it and the link; none: the set-up works. */
  cause?: KnownCause;
  /** Named regression cases carry a descriptive name; generated ones are named from their parts. */
  name: string;
  facts: Facts;
}

export function opById(id: string): Op {
  const o = OP_BY_ID.get(id);
  if (!o) throw new Error(`no corpus operator ${id}`);
  return o;
}

export function describeBase(b: BaseSpec): string {
  const parts: string[] = [b.kind === 'tool' ? 'made by the tool' : 'made by hand'];
  parts.push(b.auth === 'token' && b.leastPrivilege && b.kind === 'manual' ? 'reader token' : b.auth);
  if (b.format === 'fields') parts.push('fields');
  if (b.tls) parts.push('TLS');
  if (b.kind === 'manual' && b.kv === 1) parts.push('KV v1');
  if (b.mount !== 'secret') parts.push(`mount ${b.mount}`);
  if (b.connectionsPath !== 'connections') parts.push(`path ${b.connectionsPath || '""'}`);
  if (b.namespace && b.kind === 'manual') parts.push('namespace');
  if (b.variable) parts.push('+variable');
  if (b.specialPassword) parts.push('escaped password');
  if (b.extra) parts.push('extra');
  if (b.kind === 'tool' && b.airflowVersion === 'auto') parts.push('written for Airflow 3');
  return parts.join(', ');
}

/**
 * Walks the candidate operators over the base's facts: an operator applies when its `when` holds;
 * the first one that breaks the set-up is its cause, and a later one that would break it too is
 * left out, so the cause stays the one operator the set-up names.
 */
export function simulate(n: number, major: Major, base: BaseSpec, candidates: string[], name?: string): SetUpSpec {
  let f = baseFacts(major, base);
  const ops: string[] = [];
  let cause: KnownCause | undefined;
  for (const id of candidates) {
    const o = opById(id);
    if (!o.when(f)) continue;
    // After the cause, no other breaking operator: one that happens not to break on its own could still
    // undo the cause (kwargs Airflow drops take a wrong mount_point with them).
    if ((f.alone || cause) && o.kind === 'breaking') continue;
    const link = o.breaks?.(f);
    if (link && cause) continue;
    if (link) cause = { op: id, link };
    ops.push(id);
    f = { ...f, ...o.facts?.(f), applied: [...f.applied, id] };
  }
  const auto = `[${major}] ${describeBase(base)}${ops.length ? `: ${ops.join(' + ')}` : ''}`;
  return { n, major, base, ops, cause, name: name ?? auto, facts: f };
}

/** The user's choices when making the set-up; tool-made set-ups take only what the tool's flags offer. */
const baseArb: fc.Arbitrary<BaseSpec> = fc
  .record({
    kind: fc.constantFrom<BaseSpec['kind']>('tool', 'tool', 'manual'),
    auth: fc.constantFrom<BaseSpec['auth']>('token', 'token', 'approle', 'userpass'),
    leastPrivilege: fc.boolean(),
    format: fc.constantFrom<BaseSpec['format']>('uri', 'uri', 'fields'),
    tls: fc.constantFrom(false, false, false, true),
    kv: fc.constantFrom<1 | 2>(2, 2, 1),
    mount: fc.constantFrom('secret', 'secret', 'kv', 'airflow'),
    connectionsPath: fc.constantFrom('connections', 'connections', 'airflow/connections', 'conns'),
    variablesPath: fc.constant('variables'),
    variable: fc.constantFrom(false, false, true),
    connKind: fc.nat({ max: 3 }),
    namespace: fc.constantFrom(false, false, false, true),
    airflowVersion: fc.constantFrom<BaseSpec['airflowVersion']>('major', 'major', 'major', 'auto'),
    specialPassword: fc.constantFrom(false, false, true),
    extra: fc.constantFrom(false, false, false, true),
  })
  // The tool refuses a connections path that starts with the mount's name (the doubled-mount trap).
  .map((b) => (b.connectionsPath.startsWith(`${b.mount}/`) ? { ...b, connectionsPath: 'connections' } : b))
  .map((b) =>
    b.kind === 'tool'
      ? {
          ...b,
          auth: b.auth === 'userpass' ? 'approle' : b.auth,
          kv: 2 as const,
          namespace: false,
          leastPrivilege: false,
        }
      : { ...b, airflowVersion: 'major' as const },
  );

const choiceArb = fc.record({
  major: fc.constantFrom<Major>('3', '3', '2'),
  base: baseArb,
  benign: fc.shuffledSubarray(BENIGN, { maxLength: 3 }),
  // About three set-ups in five are broken: three candidates, the first that applies breaks it.
  breaking: fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.shuffledSubarray(BREAKING, { minLength: 3, maxLength: 3 }) },
  ),
});

/** `count` set-ups from `seed`, numbered from `first`. */
export function sample(seed: number, count: number, first = 1): SetUpSpec[] {
  const seen = new Map<string, number>();
  return fc
    .sample(choiceArb, { seed, numRuns: count })
    .map((c, i) => simulate(first + i, c.major, c.base, [...c.benign, ...(c.breaking ?? [])]))
    .map((s) => {
      // Names key the known disagreements: a set-up drawn twice is told apart by its count.
      const times = (seen.get(s.name) ?? 0) + 1;
      seen.set(s.name, times);
      return times === 1 ? s : { ...s, name: `${s.name} (${times})` };
    });
}
