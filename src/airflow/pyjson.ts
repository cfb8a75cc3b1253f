/**
 * Python's `json.loads` followed by `json.dumps`, for the one place Airflow 3 round-trips query
 * values through them (each `?key=value` of a connection URI). JavaScript's JSON differs in the
 * corners that matter here: big integers, float spelling (1.0, 1e+16), NaN/Infinity, ensure_ascii.
 */

export type PyValue =
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'str'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' }
  | { t: 'list'; v: PyValue[] }
  | { t: 'dict'; v: Map<string, PyValue> };

export class PyJsonError extends Error {}

const WS = /[ \t\n\r]*/y;
const NUMBER = /(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?/y;

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    WS.lastIndex = this.i;
    WS.exec(this.s);
    this.i = WS.lastIndex;
  }

  value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '"') return { t: 'str', v: this.string() };
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    for (const [word, val] of [
      ['null', { t: 'null' }],
      ['true', { t: 'bool', v: true }],
      ['false', { t: 'bool', v: false }],
      ['NaN', { t: 'float', v: NaN }],
      ['Infinity', { t: 'float', v: Infinity }],
      ['-Infinity', { t: 'float', v: -Infinity }],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return val as PyValue;
      }
    }
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) throw new PyJsonError('Expecting value');
    this.i = NUMBER.lastIndex;
    if (m[2] || m[3]) return { t: 'float', v: Number(m[0]) };
    return { t: 'int', v: BigInt(m[1] ?? m[0]) };
  }

  string(): string {
    let out = '';
    this.i++;
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) throw new PyJsonError('Unterminated string');
      if (c === '"') return out;
      if (c.charCodeAt(0) < 0x20) throw new PyJsonError('Invalid control character');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u') {
        const hex = this.s.slice(this.i, this.i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PyJsonError('Invalid \\uXXXX escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 4;
      } else throw new PyJsonError('Invalid \\escape');
    }
  }

  object(): PyValue {
    const map = new Map<string, PyValue>();
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return { t: 'dict', v: map };
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw new PyJsonError('Expecting property name');
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') throw new PyJsonError("Expecting ':'");
      const v = this.value();
      map.set(k, v); // the last duplicate wins, at the first one's position, as in a Python dict
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return { t: 'dict', v: map };
      if (c !== ',') throw new PyJsonError("Expecting ',' delimiter");
    }
  }

  array(): PyValue {
    const list: PyValue[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return { t: 'list', v: list };
    }
    for (;;) {
      list.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return { t: 'list', v: list };
      if (c !== ',') throw new PyJsonError("Expecting ',' delimiter");
    }
  }
}

export function pyJsonLoads(text: string): PyValue {
  const p = new Parser(text);
  const v = p.value();
  p.ws();
  if (p.i !== text.length) throw new PyJsonError('Extra data');
  return v;
}

/** `repr(float)`: shortest round-trip digits, scientific below 1e-4 or from 1e16, always a '.0' or exponent. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const c = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

export function pyJsonDumps(v: PyValue): string {
  switch (v.t) {
    case 'int':
      return v.v.toString();
    case 'float':
      return pyFloatRepr(v.v);
    case 'str':
      return pyJsonString(v.v);
    case 'bool':
      return v.v ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'list':
      return '[' + v.v.map(pyJsonDumps).join(', ') + ']';
    case 'dict':
      return '{' + [...v.v].map(([k, x]) => `${pyJsonString(k)}: ${pyJsonDumps(x)}`).join(', ') + '}';
  }
}

export const pyStr = (s: string): PyValue => ({ t: 'str', v: s });

/** `json.dumps(dict(pairs))`: insertion order of first appearance, last value wins. */
export function pyDumpsDict(pairs: [string, PyValue][]): string {
  const map = new Map<string, PyValue>();
  for (const [k, v] of pairs) map.set(k, v);
  return pyJsonDumps({ t: 'dict', v: map });
}
