/**
 * airflow.cfg as Python's configparser reads it (CPython 3.11 RawConfigParser._read with Airflow's
 * settings: `=` and `:` delimiters, `#`/`;` full-line comments only, empty lines kept inside values,
 * strict duplicates, option names lower-cased, a [DEFAULT] section that every section inherits) and
 * gets a value (BasicInterpolation: `%%` is `%`, `%(name)s` another option, any other `%` an error).
 */

export type IniErrorKind =
  | 'missing-section-header'
  | 'duplicate-section'
  | 'duplicate-option'
  | 'parsing'
  | 'interpolation-syntax'
  | 'interpolation-missing'
  | 'interpolation-depth';

/** configparser's exceptions, by kind; `line` is 1-based where the file has one. */
export class IniError extends Error {
  constructor(
    readonly kind: IniErrorKind,
    message: string,
    readonly line?: number,
    /** For 'parsing': everything else configparser read (it raises only after reading the whole file). */
    readonly read?: Ini,
  ) {
    super(message);
    this.name = 'IniError';
  }
}

export interface Ini {
  defaults: Map<string, string>;
  sections: Map<string, Map<string, string>>;
}

/** str.isspace(), which strip() and re's \\s use: JavaScript's \\s without U+FEFF, with U+001C-U+001F and U+0085. */
const PY_SPACE_CHARS =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE = `[${PY_SPACE_CHARS}]`;
const stripRe = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');
const pyStrip = (s: string) => s.replace(stripRe, '');
const pyRstrip = (s: string) => s.replace(new RegExp(`${PY_SPACE}+$`), '');
const NON_SPACE = new RegExp(`[^${PY_SPACE_CHARS}]`);

const SECTION_RE = /^\[(.+)\]/;
const OPTION_RE = new RegExp(`^(.*?)${PY_SPACE}*([=:])${PY_SPACE}*(.*)$`);

/** Text as Python's open() gives it line by line: universal newlines. */
function pyLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function parseIni(text: string, file = '<string>'): Ini {
  const ini: Ini = { defaults: new Map(), sections: new Map() };
  const raw = new Map<Map<string, string>, Map<string, string[]>>();
  const rawOf = (s: Map<string, string>) => {
    let r = raw.get(s);
    if (!r) raw.set(s, (r = new Map()));
    return r;
  };
  const added = new Set<string>();
  let cursect: Map<string, string[]> | undefined;
  let sectname: string | undefined;
  let optname: string | undefined;
  let indentLevel = 0;
  let parseError: IniError | undefined;
  pyLines(text).forEach((line, idx) => {
    const lineno = idx + 1;
    const isComment = /^[#;]/.test(pyStrip(line));
    const value = isComment ? '' : pyStrip(line);
    if (!value) {
      // Airflow keeps empty lines in values (configparser's default), unless the line was a comment.
      if (!isComment && cursect && optname) cursect.get(optname)?.push('');
      return;
    }
    const firstNonSpace = NON_SPACE.exec(line);
    const curIndent = firstNonSpace ? firstNonSpace.index : 0;
    if (cursect && optname && curIndent > indentLevel) {
      cursect.get(optname)?.push(value);
      return;
    }
    indentLevel = curIndent;
    const sec = SECTION_RE.exec(value);
    if (sec) {
      sectname = sec[1] as string;
      let target: Map<string, string>;
      if (ini.sections.has(sectname)) {
        if (added.has(`[${sectname}]`))
          throw new IniError('duplicate-section', `section '${sectname}' appears twice in ${file}`, lineno);
        target = ini.sections.get(sectname) as Map<string, string>;
        added.add(`[${sectname}]`);
      } else if (sectname === 'DEFAULT') {
        target = ini.defaults;
      } else {
        target = new Map();
        ini.sections.set(sectname, target);
        added.add(`[${sectname}]`);
      }
      cursect = rawOf(target);
      optname = undefined;
      return;
    }
    if (!cursect) throw new IniError('missing-section-header', `${file} has a line before any [section]`, lineno);
    const opt = OPTION_RE.exec(value);
    if (!opt) {
      parseError ??= new IniError('parsing', `${file} has a line that is neither a section nor key = value`, lineno);
      return;
    }
    if (!opt[1]) parseError ??= new IniError('parsing', `${file} has a line with no key before its = or :`, lineno);
    optname = pyRstrip(opt[1] ?? '').toLowerCase();
    const key = `${sectname}\u0000${optname}`;
    if (added.has(key))
      throw new IniError('duplicate-option', `option '${optname}' appears twice in [${sectname}] of ${file}`, lineno);
    added.add(key);
    cursect.set(optname, [pyStrip(opt[3] ?? '')]);
  });
  for (const [target, options] of raw) {
    for (const [name, parts] of options) target.set(name, pyRstrip(parts.join('\n')));
  }
  if (parseError) throw new IniError(parseError.kind, parseError.message, parseError.line, ini);
  return ini;
}

/** ConfigParser.has_option: the section must exist; [DEFAULT] fills in for it. */
export function hasOption(ini: Ini, section: string, option: string): boolean {
  const sec = ini.sections.get(section);
  const o = option.toLowerCase();
  return sec !== undefined && (sec.has(o) || ini.defaults.has(o));
}

const MAX_INTERPOLATION_DEPTH = 10;
const KEY_RE = /^%\(([^)]+)\)s/;

/** ConfigParser.get with BasicInterpolation; undefined when the option is not there. */
export function getOption(ini: Ini, section: string, option: string): string | undefined {
  if (!hasOption(ini, section, option)) return undefined;
  const sec = ini.sections.get(section) as Map<string, string>;
  const o = option.toLowerCase();
  const lookup = (name: string) => sec.get(name) ?? ini.defaults.get(name);
  const raw = lookup(o) as string;
  const out: string[] = [];
  const some = (rest: string, depth: number) => {
    if (depth > MAX_INTERPOLATION_DEPTH)
      throw new IniError('interpolation-depth', `[${section}] ${o}: %(...)s references nest too deep`);
    while (rest) {
      const p = rest.indexOf('%');
      if (p < 0) {
        out.push(rest);
        return;
      }
      if (p > 0) {
        out.push(rest.slice(0, p));
        rest = rest.slice(p);
      }
      const c = rest.slice(1, 2);
      if (c === '%') {
        out.push('%');
        rest = rest.slice(2);
      } else if (c === '(') {
        const m = KEY_RE.exec(rest);
        if (!m) throw new IniError('interpolation-syntax', `[${section}] ${o}: a bad %(...)s reference`);
        const name = (m[1] as string).toLowerCase();
        rest = rest.slice(m[0].length);
        const v = lookup(name);
        if (v === undefined)
          throw new IniError('interpolation-missing', `[${section}] ${o}: %(${name})s names no option`);
        if (v.includes('%')) some(v, depth + 1);
        else out.push(v);
      } else {
        throw new IniError(
          'interpolation-syntax',
          `[${section}] ${o}: a '%' must be followed by '%' or '(' (write %% for a literal %)`,
        );
      }
    }
  };
  some(raw, 1);
  return out.join('');
}
