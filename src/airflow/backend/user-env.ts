/**
 * The environment the user's Airflow starts with: the current environment with the env file
 * sourced on top, by bash itself, exactly as every instruction the tool prints does it
 * (`set -a; . ./.env; set +a`). `$VAR`, `${VAR}`, `$(...)`, quoting, `export`, `unset` and CRLF
 * line ends (bash keeps the `\r` in the value) come out as they do for the user, because bash
 * is what reads the file. The caller decides whether the file may be sourced at all (it runs
 * whatever the file says): only a file the trust boundary allows.
 */
import { existsSync } from 'node:fs';
import { runFile } from '../../process.js';
import { ENV_READ, readUserFileIfExists } from '../../io/read.js';

export interface UserEnvironment {
  env: Map<string, string>;
  /** The env file sourced, when there was one. */
  envFile?: string;
  /** Names the env file set or changed (the others are as the shell had them). */
  fromEnvFile: Set<string>;
  /** Names the env file unset. */
  unsetByEnvFile: Set<string>;
  /** What bash said on stderr while sourcing (a command not found, a syntax error), trimmed. */
  warnings?: string;
}

/** Why the env file could not be sourced; `kind` for the caller to branch on. */
export class EnvFileError extends Error {
  constructor(
    readonly kind: 'no-bash' | 'exited' | 'timeout',
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'EnvFileError';
  }
}

const BASH_CANDIDATES = ['/bin/bash', '/usr/bin/bash', '/usr/local/bin/bash', '/opt/homebrew/bin/bash'];

// Before and after sourcing, the exported environment NUL-separated; an empty entry (two NULs)
// separates them, since no entry of `env -0` is empty. The file's own output goes to stderr.
// `command -p` finds env on the system's default PATH whatever the file does to PATH.
const SCRIPT = [
  'command -p env -0',
  "printf '\\0'",
  'set -a',
  '. "$1" >&2',
  'css_rc=$?',
  'set +a',
  'printf \'%s\\0\' "$css_rc"',
  'command -p env -0',
].join('; ');

/** The names whose source doctor reports (Airflow's settings, connections, variables; Vault's client settings). */
const SETTING = /^(AIRFLOW_|VAULT_|BAO_)/;

function toMap(entries: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** The current environment as a map. */
export function envMap(env: NodeJS.ProcessEnv): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) m.set(k, v);
  return m;
}

/**
 * `base` with `envFile` sourced by bash on top (in `cwd`, as the user would from there). Without
 * a file, `base` as it is. Throws EnvFileError when bash cannot finish sourcing it.
 */
export async function userEnvironment(
  base: NodeJS.ProcessEnv,
  envFile: string | undefined,
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<UserEnvironment> {
  const env = envMap(base);
  if (!envFile) return { env, fromEnvFile: new Set(), unsetByEnvFile: new Set() };
  // bash runs what the file says, and blocks on a FIFO: a regular file of the user's (or root's) only.
  readUserFileIfExists(envFile, { ...ENV_READ, ownerCheck: true });
  const bash = BASH_CANDIDATES.find((b) => existsSync(b));
  if (!bash) throw new EnvFileError('no-bash', envFile, `no bash found to read ${envFile} as your shell does`);
  // BASH_ENV would make bash run another file first: the user's interactive shell did not.
  const childEnv = { ...base };
  delete childEnv.BASH_ENV;
  delete childEnv.ENV;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const started = Date.now();
  // What SCRIPT prints: the environment before (NUL-separated), an empty field, then after sourcing.
  const source = (env: NodeJS.ProcessEnv) =>
    runFile(bash, ['--noprofile', '--norc', '-c', SCRIPT, 'css-source-env', envFile], {
      env,
      cwd: opts.cwd,
      timeoutMs,
    });
  const r = await source(childEnv);
  const parts = r.stdout.split('\0');
  const sep = parts.indexOf('');
  if (sep < 0 && Date.now() - started >= timeoutMs)
    throw new EnvFileError('timeout', envFile, `sourcing ${envFile} did not finish in ${timeoutMs / 1000} s`);
  if (sep < 0 || parts.length < sep + 3)
    throw new EnvFileError('exited', envFile, `sourcing ${envFile} ends the shell (it runs exit or exec)`);
  const before = toMap(parts.slice(0, sep));
  const after = toMap(parts.slice(sep + 2, -1));
  const fromEnvFile = new Set<string>();
  const unsetByEnvFile = new Set<string>();
  for (const [k, v] of after) {
    if (k === '_' || before.get(k) === v) continue;
    env.set(k, v);
    fromEnvFile.add(k);
  }
  for (const k of before.keys()) {
    if (k === '_' || after.has(k)) continue;
    env.delete(k);
    unsetByEnvFile.add(k);
  }
  // A shell that sourced the file already holds its values: what the file sets again is still the file's.
  const same = [...before.keys()].filter(
    (k) => SETTING.test(k) && !fromEnvFile.has(k) && after.get(k) === before.get(k),
  );
  if (same.length) {
    const without = { ...childEnv };
    for (const k of same) delete without[k];
    const parts2 = (await source(without)).stdout.split('\0');
    const sep2 = parts2.indexOf('');
    const set = sep2 < 0 ? new Map<string, string>() : toMap(parts2.slice(sep2 + 2, -1));
    for (const k of same) if (set.has(k)) fromEnvFile.add(k);
  }
  const warnings = r.stderr.trim();
  return { env, envFile, fromEnvFile, unsetByEnvFile, ...(warnings ? { warnings } : {}) };
}
