/**
 * The shape of each Vault answer the client reads, checked before a field is used: a server (or
 * anything at a --vault-url) that answers `{"errors": [1]}` or `{"data": {"keys": "abc"}}` is named
 * as not answering like Vault, in one line, instead of failing later on a field of the wrong type.
 * A small set of combinators rather than a schema library: the answers are few and flat.
 */

/** An answer that does not have the shape Vault gives: `at` is the field, `want` what it should be. */
export class MalformedAnswer extends Error {
  constructor(
    readonly at: string,
    readonly want: string,
    readonly got: string,
  ) {
    super(`${at} is ${got}, not ${want}`);
    this.name = 'MalformedAnswer';
  }
}

export type Shape<T> = (v: unknown, at: string) => T;

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

const primitive =
  <T>(type: 'string' | 'number' | 'boolean', want: string): Shape<T> =>
  (v, at) => {
    if (typeof v !== type) throw new MalformedAnswer(at, want, kindOf(v));
    return v as T;
  };

export const str: Shape<string> = primitive('string', 'a string');
export const num: Shape<number> = primitive('number', 'a number');
export const bool: Shape<boolean> = primitive('boolean', 'true or false');

/** Absent (or null) is undefined. */
export const opt =
  <T>(s: Shape<T>): Shape<T | undefined> =>
  (v, at) =>
    v === undefined || v === null ? undefined : s(v, at);

export const list =
  <T>(s: Shape<T>): Shape<T[]> =>
  (v, at) => {
    if (!Array.isArray(v)) throw new MalformedAnswer(at, 'a list', kindOf(v));
    return v.map((x, i) => s(x, `${at}[${i}]`));
  };

/** Any JSON object (a secret's key/values), kept without a prototype. */
export const anyObject: Shape<Record<string, unknown>> = (v, at) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MalformedAnswer(at, 'an object', kindOf(v));
  return Object.assign(Object.create(null), v) as Record<string, unknown>;
};

/** An object whose values all have one shape. */
export const recordOf =
  <T>(s: Shape<T>): Shape<Record<string, T>> =>
  (v, at) => {
    const o = anyObject(v, at);
    const out: Record<string, T> = Object.create(null);
    for (const [k, x] of Object.entries(o)) out[k] = s(x, `${at}.${k}`);
    return out;
  };

type Fields<T> = { [K in keyof T]: Shape<T[K]> };

/** An object with these fields (others ignored). */
export const obj =
  <T>(fields: Fields<T>): Shape<T> =>
  (v, at) => {
    const o = anyObject(v, at);
    const out = {} as T;
    for (const k of Object.keys(fields) as (keyof T & string)[]) out[k] = fields[k](o[k], `${at}.${k}`);
    return out;
  };

/** The `errors` and `warnings` of any answer: lists of strings when present. */
export const envelope = obj({ errors: opt(list(str)), warnings: opt(list(str)) });

/** The errors an answer says, whatever its shape: an answer whose errors are not strings says none. */
export function errorsOf(body: unknown): { errors: string[]; warnings: string[]; malformed: boolean } {
  if (body === null || body === undefined) return { errors: [], warnings: [], malformed: false };
  try {
    const e = envelope(body, 'the answer');
    return { errors: e.errors ?? [], warnings: e.warnings ?? [], malformed: false };
  } catch (err) {
    if (err instanceof MalformedAnswer) return { errors: [], warnings: [], malformed: true };
    throw err;
  }
}
