/**
 * A mutation operator: one thing a user does to a working set-up. Benign operators vary how the
 * set-up is written (where a setting lives, how the .env quotes it, which auth method) and leave it
 * working; breaking operators break it at one link of Airflow's chain, the set-up's KNOWN CAUSE.
 * `when`, `facts` and `breaks` are pure (the generator simulates a set-up from them before anything
 * runs); `apply` does it to a real set-up.
 */
import type { Link } from '../../../src/doctor/types.js';
import type { Workspace } from '../sandbox.js';
import type { Facts, World } from './world.js';

/** The classes of inputs Airflow reads, as README "How far doctor can be trusted" lists them. */
export const OP_CLASSES = [
  'where settings live',
  'env-file syntax',
  'per-key kwargs',
  'class path',
  'kwargs keys and types',
  'auth methods',
  'address, TLS and proxies',
  'Vault server state',
  'policies',
  'mounts and paths',
  'secret shapes and values',
  'shadowing sources',
] as const;
export type OpClass = (typeof OP_CLASSES)[number];

export interface OpContext {
  ws: Workspace;
  /** The server binary (bao or vault). */
  bin: string;
}

export interface Op {
  id: string;
  class: OpClass;
  /** What the user did, as a phrase: "the kwargs url on a port where nothing listens". */
  title: string;
  /** Benign operators vary a working set-up; breaking ones are chosen at most once per set-up. */
  kind: 'benign' | 'breaking';
  /** Too dear for the generated sample (an `airflow db migrate`): named cases only. */
  namedOnly?: true;
  when(f: Facts): boolean;
  /** The facts after this operator (only what changes). */
  facts?(f: Facts): Partial<Facts>;
  /** The link this operator breaks, given the facts before it; undefined: the set-up still works. */
  breaks?(f: Facts): Link | undefined;
  apply(w: World, f: Facts, ctx: OpContext): Promise<void> | void;
}

export const op = (o: Op): Op => o;
