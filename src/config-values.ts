/**
 * The connections and variables of secrets-sandbox.yaml exactly as written. YAML reads a plain
 * `012345` as the number 12345, `0x1F` as 31, `12345678901234567890` as a float that loses digits,
 * `.inf` as Infinity and `true` as a boolean; a password or a variable is text, so such a value is
 * kept as the text the user typed. What has no text form (a tag such as `!!binary`, an empty value,
 * a list) is refused with its line and how to write it. Ids are plain keys of maps without a
 * prototype: `__proto__` and `constructor` are ids like any other.
 */
import type { Document, LineCounter, Node, Scalar, YAMLMap } from 'yaml';
import { ConnectionValueError, parseConnectionEntry } from './airflow/spec.js';
import { UsageError } from './errors.js';

type YamlLib = typeof import('yaml');

interface Parsed {
  yaml: YamlLib;
  doc: Document;
  lc: LineCounter;
}

const STR_TAG = 'tag:yaml.org,2002:str';
/** The fields of a connection mapping that hold text (port is a number, extra is JSON). */
const TEXT_FIELDS = new Set(['conn_type', 'description', 'host', 'login', 'password', 'schema']);

/** `!!binary` for tag:yaml.org,2002:binary; other tags as written. */
const shortTag = (tag: string) => tag.replace(/^tag:yaml\.org,2002:/, '!!');

const QUOTE_IT = 'quote it to keep it as text';

export interface WrittenValues {
  /** The text of the scalar at `path` when YAML would read it as something else than a string. */
  text(path: string[]): string | undefined;
  /** The connections section: id -> a URI or Airflow's JSON form. */
  connections(section: string): Record<string, string>;
  /** The variables section: key -> value. */
  variables(section: string): Record<string, string>;
}

export function writtenValues({ yaml, doc, lc }: Parsed, label: string): WrittenValues {
  const refuse = (node: Node | null | undefined, path: string[], what: string): never => {
    const at = node?.range?.[0];
    const pos = at === undefined ? '' : `:${lc.linePos(at).line}:${lc.linePos(at).col}`;
    throw new UsageError(`${label}${pos}: ${path.join('.')} ${what}`);
  };
  const deref = (n: unknown): unknown => (yaml.isAlias(n) ? n.resolve(doc) : n);

  /** A scalar as text: a string as YAML reads it, any other plain scalar as its source text. */
  const scalarText = (node: Scalar, path: string[]): string => {
    if (node.tag && node.tag !== STR_TAG)
      refuse(
        node,
        path,
        `carries the YAML tag ${shortTag(node.tag)}, which this tool does not read; write the value itself, as text`,
      );
    if (typeof node.value === 'string') return node.value;
    if (node.value === null) refuse(node, path, 'has no value; write one (or "" for an empty one)');
    return node.source ?? String(node.value);
  };

  /** A JSON value (extra) from YAML: numbers only as JSON writes them and without loss. */
  const jsonValue = (n: unknown, path: string[]): unknown => {
    const node = deref(n);
    if (yaml.isMap(node)) {
      const out: Record<string, unknown> = Object.create(null);
      for (const pair of node.items) {
        const k = String((pair.key as Scalar).value);
        out[k] = jsonValue(pair.value, [...path, k]);
      }
      return out;
    }
    if (yaml.isSeq(node)) return node.items.map((x, i) => jsonValue(x, [...path, String(i)]));
    if (!yaml.isScalar(node)) return null;
    if (node.tag && node.tag !== STR_TAG)
      refuse(node, path, `carries the YAML tag ${shortTag(node.tag)}, which JSON cannot hold; write the value itself`);
    const v = node.value;
    if (typeof v === 'number') {
      const src = node.source ?? '';
      const exact =
        /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(src) && (!Number.isInteger(v) || Number.isSafeInteger(v));
      if (!exact)
        refuse(node, path, `is ${src}, a number JSON cannot hold as written; write it as JSON does, or ${QUOTE_IT}`);
    }
    return v;
  };

  /** A port as written: decimal digits only (YAML would read 0x1F as 31, Airflow's int() would not). */
  const portText = (node: Scalar, path: string[]): string => {
    const t = scalarText(node, path);
    if (!/^\d+$/.test(t)) refuse(node, path, `is '${t}', which is not a port number; write the port in decimal`);
    return t;
  };

  const fieldsOf = (map: YAMLMap, path: string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = Object.create(null);
    for (const pair of map.items) {
      const k = String((pair.key as Scalar).value);
      const node = deref(pair.value);
      if (k === 'extra' && !yaml.isScalar(node)) out[k] = jsonValue(node, [...path, k]);
      else if (!yaml.isScalar(node)) refuse(node as Node, [...path, k], 'must be a single value');
      else if (node.value === null) out[k] = null;
      else if (TEXT_FIELDS.has(k) || k === 'extra') out[k] = scalarText(node, [...path, k]);
      else if (k === 'port') out[k] = portText(node, [...path, k]);
      else out[k] = jsonValue(node, [...path, k]);
    }
    return out;
  };

  const section = (
    name: string,
    each: (node: unknown, path: string[], key: Scalar) => string,
  ): Record<string, string> => {
    const out: Record<string, string> = Object.create(null);
    const map = deref(doc.get(name, true));
    if (!yaml.isMap(map)) return out;
    for (const pair of map.items) {
      const key = pair.key as Scalar;
      const id = String(key.value);
      out[id] = each(deref(pair.value), [name, id], key);
    }
    return out;
  };

  return {
    text(path) {
      const node = doc.getIn(path, true);
      if (!yaml.isScalar(node) || typeof node.value === 'string') return undefined;
      return scalarText(node, path);
    },
    connections: (name) =>
      section(name, (node, path, key) => {
        if (yaml.isScalar(node)) return scalarText(node, path);
        if (!yaml.isMap(node)) return refuse(key, path, 'must be a connection URI string, not a list');
        try {
          return parseConnectionEntry(fieldsOf(node, path));
        } catch (e) {
          if (e instanceof ConnectionValueError) return refuse(key, path, e.message);
          throw e;
        }
      }),
    variables: (name) =>
      section(name, (node, path, key) => {
        if (yaml.isScalar(node)) return scalarText(node, path);
        return refuse(key, path, `must be a string value, not ${yaml.isMap(node) ? 'a mapping' : 'a list'}`);
      }),
  };
}
