/**
 * Python's own string rules that Airflow's configuration applies, ported line by line so the reader
 * gets what Airflow gets: `os.path.expandvars` and `os.path.expanduser` (posixpath, CPython 3.11),
 * repeated until nothing changes (Airflow's `expand_env_var`), and `shlex.split` (posix mode), which
 * Airflow's `run_command` uses to turn a `_CMD` value into an argv (no shell runs it).
 */

/** posixpath.expandvars: `$name` and `${name}` from `env`; a name that is not set stays as written. */
export function expandVars(path: string, env: ReadonlyMap<string, string>): string {
  if (!path.includes('$')) return path;
  // \w with re.ASCII; `${...}` takes anything up to the first `}`.
  const varProg = /\$([A-Za-z0-9_]+|\{[^}]*\})/g;
  let i = 0;
  for (;;) {
    varProg.lastIndex = i;
    const m = varProg.exec(path);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let name = m[1] ?? '';
    if (name.startsWith('{') && name.endsWith('}')) name = name.slice(1, -1);
    const value = env.get(name);
    if (value === undefined) {
      i = end;
      continue;
    }
    const tail = path.slice(end);
    path = path.slice(0, start) + value;
    i = path.length;
    path += tail;
  }
  return path;
}

/**
 * posixpath.expanduser: a leading `~` is $HOME (or the account's home); `~name` is that user's home,
 * which only the current user's can be told here (`ownHome` for its name), else it stays.
 */
export function expandUser(
  path: string,
  env: ReadonlyMap<string, string>,
  own: { user: string; home: string },
): string {
  if (!path.startsWith('~')) return path;
  let i = path.indexOf('/', 1);
  if (i < 0) i = path.length;
  let home: string;
  if (i === 1) home = env.get('HOME') ?? own.home;
  else if (path.slice(1, i) === own.user) home = own.home;
  else return path;
  home = home.replace(/\/+$/, '');
  return home + path.slice(i) || '/';
}

/** Airflow loops expandvars+expanduser until a fixed point; a value that grows forever hangs Airflow. */
export const EXPANSION_LIMIT = 64;

export class ExpansionLoop extends Error {
  constructor(readonly value: string) {
    super('the value keeps growing under $VAR expansion: Airflow would loop forever reading it');
    this.name = 'ExpansionLoop';
  }
}

/** Airflow's expand_env_var (configuration.py): expand until the value stops changing. */
export function expandEnvVar(value: string, env: ReadonlyMap<string, string>, own: { user: string; home: string }) {
  if (!value) return value;
  for (let n = 0; n < EXPANSION_LIMIT; n++) {
    const next = expandUser(expandVars(value, env), env, own);
    if (next === value) return next;
    value = next;
  }
  throw new ExpansionLoop(value);
}

/** shlex.split's errors carry Python's own messages (ValueError). */
export class ShlexError extends Error {
  constructor(message: 'No closing quotation' | 'No escaped character') {
    super(message);
    this.name = 'ShlexError';
  }
}

const WHITESPACE = ' \t\r\n';
const QUOTES = `'"`;

/** shlex.split(s) (posix=True, comments=False): the argv Airflow's run_command gives Popen. */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let state: ' ' | 'a' | "'" | '"' | '\\' | null = ' ';
  let escapedState: ' ' | 'a' | "'" | '"' = 'a';
  let token = '';
  let quoted = false;
  const emit = () => {
    if (token || quoted) out.push(token);
    token = '';
    quoted = false;
  };
  for (let i = 0; i <= s.length && state !== null; i++) {
    const c = i < s.length ? (s[i] as string) : '';
    if (state === ' ' || state === 'a') {
      if (!c) {
        state = null;
      } else if (WHITESPACE.includes(c)) {
        if (state === 'a' || quoted) emit();
        state = ' ';
      } else if (c === '\\') {
        escapedState = 'a';
        state = '\\';
      } else if (QUOTES.includes(c)) {
        state = c as "'" | '"';
      } else {
        token += c;
        state = 'a';
      }
    } else if (state === "'" || state === '"') {
      quoted = true;
      if (!c) throw new ShlexError('No closing quotation');
      if (c === state) state = 'a';
      else if (c === '\\' && state === '"') {
        escapedState = '"';
        state = '\\';
      } else token += c;
    } else {
      if (!c) throw new ShlexError('No escaped character');
      // Inside double quotes only the quote and the backslash itself are escaped.
      if (escapedState === '"' && c !== '\\' && c !== '"') token += '\\';
      token += c;
      state = escapedState;
    }
  }
  if (token || quoted) out.push(token);
  return out;
}
