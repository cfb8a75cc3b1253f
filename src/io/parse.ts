/**
 * Parse errors that say where, never what: `file:line:col` and the kind of mistake, with no text of
 * the file around it. The file may hold passwords, and both JSON.parse (`Unexpected token 's',
 * "{"a": s3cret}" is not valid JSON`) and the yaml library (`Unexpected scalar: "s3cret"`, code
 * frames) quote the source in their messages.
 */
import { UsageError } from '../errors.js';

export interface Position {
  line: number;
  col: number;
}

/** 1-based line and column of `offset` in `text`. */
export function lineCol(text: string, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX = /^[0-9a-fA-F]$/;

export interface JsonSyntaxError {
  offset: number;
  reason: string;
}

class Stop {
  constructor(readonly e: JsonSyntaxError) {}
}

/**
 * Where JSON.parse would fail on `text`, and the kind of mistake; null for valid JSON (RFC 8259,
 * as JSON.parse reads it). Only called after JSON.parse failed: its message is not read, because
 * it quotes the source. Iterative, so nesting as deep as JSON.parse takes does not overflow.
 */
export function jsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const n = text.length;
  function stop(reason: string): never {
    throw new Stop({ offset: Math.min(i, n), reason });
  }
  const isDigit = (k: number) => {
    const c = text.charCodeAt(k);
    return c >= 0x30 && c <= 0x39;
  };
  const ws = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const digits = (what: string) => {
    if (!isDigit(i)) stop(what);
    while (isDigit(i)) i++;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= n) stop('a string is not closed');
      const c = text.charAt(i);
      if (c === '"') {
        i++;
        return;
      }
      if (c.charCodeAt(0) < 0x20) stop('a control character (a raw newline or tab) inside a string');
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          i += 2;
          for (let k = 0; k < 4; k++, i++) if (!HEX.test(text.charAt(i))) stop('a \\u escape without four hex digits');
        } else if (e !== undefined && ESCAPES.has(e)) i += 2;
        else {
          i++;
          stop('an invalid escape in a string');
        }
      } else i++;
    }
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits('a number without digits');
    if (text[i] === '.') {
      i++;
      digits('a number without digits after its point');
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits('a number without digits in its exponent');
    }
  };
  const value = (): '{' | '[' | null => {
    ws();
    if (i >= n) stop('the text ends where a value belongs');
    const c = text.charAt(i);
    if (c === '{' || c === '[') {
      i++;
      return c;
    }
    if (c === '"') string();
    else if (c === '-' || isDigit(i)) number();
    else {
      const word = ['true', 'false', 'null'].find((w) => w[0] === c);
      if (!word) stop('a value cannot start here (strings take double quotes)');
      for (const ch of word) {
        if (text.charAt(i) !== ch) stop(`a misspelt ${word}`);
        i++;
      }
    }
    return null;
  };
  const key = () => {
    ws();
    if (text[i] !== '"') stop(i >= n ? 'the text ends inside a mapping' : 'a key must be a double-quoted string');
    string();
    ws();
    if (text[i] !== ':') stop("a key without ':' after it");
    i++;
  };
  const stack: ('{' | '[')[] = [];
  try {
    let opened = value();
    for (;;) {
      if (opened) {
        ws();
        const close = opened === '{' ? '}' : ']';
        if (text[i] === close) i++;
        else {
          stack.push(opened);
          if (opened === '{') key();
          opened = value();
          continue;
        }
      }
      // A value ended: what may follow it.
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (i < n) stop('more text follows the JSON value');
        return null;
      }
      const close = top === '{' ? '}' : ']';
      if (text[i] === ',') {
        i++;
        if (top === '{') key();
        opened = value();
      } else if (text[i] === close) {
        i++;
        stack.pop();
        opened = null;
      } else {
        const inside = top === '{' ? 'a mapping' : 'a list';
        stop(i >= n ? `the text ends inside ${inside}` : `expected ',' or '${close}' in ${inside}`);
      }
    }
  } catch (e) {
    if (e instanceof Stop) return e.e;
    throw e;
  }
}

/** `line 3, column 14: a string is not closed`, for `text` that JSON.parse refused. */
export function describeJsonError(text: string): { at: Position | null; reason: string } {
  const e = jsonSyntaxError(text);
  if (!e) return { at: null, reason: 'not valid JSON' };
  return { at: lineCol(text, e.offset), reason: e.reason };
}

/** JSON.parse, with a refusal that names `label:line:col` and the mistake, never the text (UsageError). */
export function parseJson(text: string, label: string, fix: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const { at, reason } = describeJsonError(text);
    throw new UsageError(`${label}${at ? `:${at.line}:${at.col}` : ''}: not valid JSON (${reason}); ${fix}`);
  }
}

/** What each yaml library error code means, in words that quote nothing of the file. */
const YAML_MISTAKES: Record<string, string> = {
  ALIAS_PROPS: 'an alias (*name) cannot carry a tag or anchor',
  BAD_ALIAS: 'an alias (*name) that names no anchor',
  BAD_DIRECTIVE: 'a % directive this reader does not know',
  BAD_DQ_ESCAPE: 'an invalid escape in a double-quoted string',
  BAD_INDENT: 'indentation that does not line up',
  BAD_PROP_ORDER: 'a tag or anchor in the wrong place',
  BAD_SCALAR_START: 'a plain value cannot start with this character (quote it)',
  BLOCK_AS_IMPLICIT_KEY: 'a block used as a key',
  BLOCK_IN_FLOW: 'a block inside a flow collection ({ } or [ ])',
  DUPLICATE_KEY: 'a key given twice in the same mapping',
  IMPOSSIBLE: 'a structure YAML does not allow',
  KEY_OVER_1024_CHARS: 'an implicit key over 1024 characters',
  MISSING_CHAR: "a missing character (a closing quote or bracket, or ':')",
  MULTILINE_IMPLICIT_KEY: 'a key spread over several lines',
  MULTIPLE_ANCHORS: 'more than one anchor on a value',
  MULTIPLE_DOCS: 'more than one document (---)',
  MULTIPLE_TAGS: 'more than one tag on a value',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'aliases that expand too far',
  TAB_AS_INDENT: 'a tab used for indentation (use spaces)',
  TAG_RESOLVE_FAILED: 'a value that does not fit its tag',
  UNEXPECTED_TOKEN: 'something unexpected here (a stray character, or a value where a key belongs)',
  BAD_COLLECTION_TYPE: 'a collection of a kind its tag does not allow',
};

type YamlLib = typeof import('yaml');

/** yaml is CommonJS: bundled, a dynamic import hands back its exports under `default`. */
export async function loadYaml(): Promise<YamlLib> {
  const mod = (await import('yaml')) as YamlLib & { default?: YamlLib };
  return mod.default ?? mod;
}

/**
 * A YAML document parsed with positions (for later messages that point at a key), or a refusal
 * naming `label:line:col` and the kind of mistake (UsageError).
 */
export async function parseYamlDocument(
  text: string,
  label: string,
  fix: string,
): Promise<{ yaml: YamlLib; doc: import('yaml').Document; lc: import('yaml').LineCounter }> {
  const yaml = await loadYaml();
  const lc = new yaml.LineCounter();
  let doc: import('yaml').Document;
  try {
    // Keys as written: an id `012` or `true` is that text, never the number 12 or a boolean.
    doc = yaml.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, stringKeys: true });
  } catch (e) {
    // Deeply nested input overflows the stack as a RangeError, not a YAMLParseError (deps.md §5).
    if (e instanceof RangeError) throw new UsageError(`${label}: not valid YAML (nested too deeply); ${fix}`);
    throw e;
  }
  const first = doc.errors[0];
  if (first) {
    const pos = lc.linePos(first.pos[0]);
    const mistake = YAML_MISTAKES[first.code] ?? 'a syntax error';
    throw new UsageError(`${label}:${pos.line}:${pos.col}: not valid YAML (${mistake}); ${fix}`);
  }
  return { yaml, doc, lc };
}

/** How many copies aliases may make of anchored values (a "billion laughs" document is refused). */
export const MAX_YAML_ALIASES = 100;

/**
 * The data of a parsed document, with aliases bounded. An alias naming no anchor before it is
 * refused with its position; past that, the one way toJS fails is the alias cap.
 */
export function yamlToData(
  parsed: { yaml: YamlLib; doc: import('yaml').Document; lc: import('yaml').LineCounter },
  label: string,
  fix: string,
): unknown {
  const { yaml, doc, lc } = parsed;
  const anchors = new Set<string>();
  let unresolved: number | undefined;
  yaml.visit(doc, {
    Node(_key, node) {
      if (yaml.isAlias(node)) {
        if (!anchors.has(node.source)) {
          unresolved = node.range?.[0] ?? 0;
          return yaml.visit.BREAK;
        }
      } else if (node.anchor) anchors.add(node.anchor);
      return undefined;
    },
  });
  if (unresolved !== undefined) {
    const pos = lc.linePos(unresolved);
    throw new UsageError(
      `${label}:${pos.line}:${pos.col}: not valid YAML (an alias (*name) with no anchor (&name) before it); ${fix}`,
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    throw new UsageError(
      `${label}: its YAML aliases (*name) expand past ${MAX_YAML_ALIASES} copies; write the values out instead of aliasing them`,
    );
  }
}
