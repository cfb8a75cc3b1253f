/** Renders the files Airflow reads: the env file (shell and docker forms) and the example DAG. */
import { readFileSync } from 'node:fs';
import { sha256 } from '../io/write.js';
import { UsageError } from '../errors.js';
import { maskToken } from '../ui/mask.js';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { backendClassPath, backendKwargs, type AirflowVersion, type BackendTarget } from './backend.js';
import type { Flavour } from '../vault/binary.js';

export interface EnvInput extends BackendTarget {
  airflowVersion: AirflowVersion;
  flavour: Flavour;
  /** Set when the example DAG lives in the sandbox, so `airflow dags test` finds it with this env alone. */
  dagsFolder?: string;
  /** NO_PROXY entries to keep besides the sandbox's loopback ones (see noProxyEntries). */
  noProxy?: string[];
}

/** Loopback names every client we know reads in NO_PROXY without brackets (requests matches '::1', not '[::1]'). */
const LOOPBACK_NO_PROXY = ['127.0.0.1', 'localhost', '::1'];

/**
 * NO_PROXY for the env files: the sandbox's host and loopback first, so Airflow's hvac (requests)
 * never sends the token through a proxy, then the user's own entries: those already in the .env's
 * NO_PROXY/no_proxy lines and those in this process's environment when the file is written
 * (sourcing the .env replaces the shell's NO_PROXY, so entries that lived only there are carried in).
 */
export function noProxyEntries(
  url: string,
  existingEnvText: string | null,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  let host = '';
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    /* an unparsable url still gets the loopback names */
  }
  const fromFile = existingEnvText === null ? new Map<string, string>() : parseEnvFile(existingEnvText);
  const user = [fromFile.get('NO_PROXY'), fromFile.get('no_proxy'), env.NO_PROXY, env.no_proxy];
  const all = [host, ...LOOPBACK_NO_PROXY, ...user.flatMap((v) => (v ?? '').split(','))]
    .map((x) => x.trim())
    .filter(Boolean);
  return [...new Set(all)];
}

export function envEntries(e: EnvInput): [string, string][] {
  const entries: [string, string][] = [
    ['AIRFLOW__SECRETS__BACKEND', backendClassPath(e.airflowVersion)],
    ['AIRFLOW__SECRETS__BACKEND_KWARGS', JSON.stringify(backendKwargs(e.airflowVersion, e))],
    ['VAULT_ADDR', e.url],
  ];
  // With another auth method (AppRole) Airflow gets no token at all: the root token stays with the tool.
  if (!e.auth) entries.push(['VAULT_TOKEN', e.token]);
  if (e.caFile) entries.push(['VAULT_CACERT', e.caFile]);
  if (e.namespace) entries.push(['VAULT_NAMESPACE', e.namespace]);
  // bao reads BAO_ADDR first and falls back to VAULT_ADDR; setting both keeps a stale BAO_ADDR from winning.
  if (e.flavour === 'OpenBao') {
    entries.push(['BAO_ADDR', e.url]);
    if (!e.auth) entries.push(['BAO_TOKEN', e.token]);
    if (e.caFile) entries.push(['BAO_CACERT', e.caFile]);
    if (e.namespace) entries.push(['BAO_NAMESPACE', e.namespace]);
  }
  if (e.dagsFolder) entries.push(['AIRFLOW__CORE__DAGS_FOLDER', e.dagsFolder]);
  // Both spellings: requests reads either, curl only the lower-case one, Go prefers the upper.
  const noProxy = noProxyEntries(e.url, null, {}).concat(e.noProxy ?? []);
  const joined = [...new Set(noProxy)].join(',');
  entries.push(['NO_PROXY', joined], ['no_proxy', joined]);
  return entries;
}

/** POSIX single quotes: nothing inside is expanded; a literal ' is written as '\''. */
export function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * A value quoted so bash (`. ./.env`), docker compose (env_file) and python-dotenv all read it
 * back unchanged, or null when no quoting does. Measured with all three (test/e2e/env-readers):
 *  - single quotes: literal in bash and compose; python-dotenv still turns \\ and \' into \ and '
 *    and expands ${VAR}, so only for values without ', \ and ${;
 *  - double quotes, escaping \ and ": the same in all three, but bash and compose expand $ and `
 *    while python-dotenv keeps a backslash before them, so only for values without $ and `.
 * A value with ' (or \, or ${) together with $ (or `) has no form all three read alike.
 */
export function dotenvQuote(v: string): string | null {
  if (!/['\\]/.test(v) && !v.includes('${')) return `'${v}'`;
  if (!/[$`]/.test(v)) return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return null;
}

/** Why `v` cannot be an .env value (bash, compose and python-dotenv would disagree on it), or null. */
export function envValueProblem(v: string): string | null {
  if (dotenvQuote(v) !== null) return null;
  return "mixes ' or \\ with $ or `, which no quoting makes bash, docker compose and python-dotenv read alike";
}

/** Why `v` cannot be a docker.env value (docker takes each line literally), or null. */
export function dockerEnvValueProblem(v: string): string | null {
  return /[\r\n]/.test(v) ? 'holds a line break, which a docker --env-file line cannot carry' : null;
}

/** For `set -a; . ./.env; set +a`, docker compose's env_file and python-dotenv. */
export function renderShellEnv(e: EnvInput): string {
  const lines = [
    `# Written by create-secrets-sandbox for Airflow ${e.airflowVersion} and a ${e.flavour} dev server.`,
    e.auth
      ? '# Holds the credentials Airflow logs in with (not the root token): keep it private (mode 0600, git-ignored).'
      : '# Holds the root token of the sandbox server: keep it private (mode 0600, git-ignored).',
    '# Load it before starting Airflow:   set -a; . ./.env; set +a',
    '# For `docker run --env-file` use docker.env instead: docker keeps quotes as part of the value.',
    '# NO_PROXY keeps the token off any HTTP proxy; entries you add to it are kept on rewrite.',
    ...envEntries(e).map(([k, v]) => {
      const q = dotenvQuote(v);
      if (q === null)
        throw new UsageError(
          `the .env value of ${k} ('${k.includes('TOKEN') ? maskToken(v) : v}') ${envValueProblem(v)}; use a path or name without them`,
        );
      return `${k}=${q}`;
    }),
  ];
  return lines.join('\n') + '\n';
}

/** For `docker run --env-file`: one KEY=value a line, taken literally (docker strips no quotes). */
export function renderDockerEnv(e: EnvInput): string {
  const lines = [
    '# Written by create-secrets-sandbox for `docker run --network host --env-file docker.env ...`.',
    '# Values are literal: docker does not strip quotes. The server listens on loopback, hence --network host.',
    ...envEntries(e).map(([k, v]) => {
      const p = dockerEnvValueProblem(v);
      if (p)
        throw new UsageError(
          `the docker.env value of ${k} ('${k.includes('TOKEN') ? maskToken(v) : JSON.stringify(v).slice(1, -1)}') ${p}; use a path or name without line breaks`,
        );
      return `${k}=${v}`;
    }),
  ];
  return lines.join('\n') + '\n';
}

/**
 * Reads KEY=VALUE lines back as bash would for what we write and what a user typically adds:
 * single quotes (literal), double quotes (\\ \" \$ \` escapes), bare words with \ escapes, quoted
 * values spanning lines, comments. No expansion of $VAR.
 */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const skipLine = () => {
    while (i < n && text[i] !== '\n') i++;
    i++;
  };
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
    if (i >= n) break;
    if (text[i] === '#') {
      skipLine();
      continue;
    }
    if (text.startsWith('export ', i)) i += 7;
    const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i, i + 256));
    if (!m || text[i + m[0].length] !== '=') {
      skipLine();
      continue;
    }
    const key = m[0];
    i += key.length + 1;
    let value = '';
    while (i < n && text[i] !== '\n' && text[i] !== ' ' && text[i] !== '\t' && text[i] !== '\r') {
      const c = text[i]!;
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        value += text.slice(i + 1, end < 0 ? n : end);
        i = end < 0 ? n : end + 1;
      } else if (c === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n && '\\"$`\n'.includes(text[i + 1]!)) {
            if (text[i + 1] !== '\n') value += text[i + 1];
            i += 2;
          } else value += text[i++];
        }
        i++;
      } else if (c === '\\') {
        if (text[i + 1] !== '\n') value += text[i + 1] ?? '';
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    skipLine();
    out.set(key, value);
  }
  return out;
}

export interface DagInput {
  airflowVersion: AirflowVersion;
  connIds: string[];
  envFile: string;
}

/** Airflow's limit on a task id (airflow.utils.helpers.validate_key, max_length=250). */
export const TASK_ID_MAX = 250;

/**
 * One task id per connection id, all distinct. A connection id is already a valid task id
 * ([A-Za-z0-9_.-]), so `check_<id>` is kept as it is: mapping '.' and '-' to '_' (as before) gave
 * `my.db`, `my-db` and `my_db` one task id (DuplicateTaskIdFound). Only an id too long for the
 * 250-character limit is cut, with a hash of the whole id, and any clash is numbered.
 */
export function dagTaskIds(connIds: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const id of connIds) {
    let t = `check_${id}`;
    if (t.length > TASK_ID_MAX) t = `${t.slice(0, TASK_ID_MAX - 9)}_${sha256(id).slice(0, 8)}`;
    for (let n = 2; used.has(t); n++) t = `${t.slice(0, TASK_ID_MAX - String(n).length - 1)}_${n}`;
    used.add(t);
    out.set(id, t);
  }
  return out;
}

/** Text safe inside a Python """docstring""": a path may hold '\\', '"' or a newline. */
const pyDocText = (s: string): string =>
  s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

export function renderDag(d: DagInput): string {
  const file = d.airflowVersion === '1.10' ? 'example_secrets_dag_airflow1.py' : 'example_secrets_dag.py';
  const template = readFileSync(join(packageRoot(), 'templates', 'dags', file), 'utf8');
  const tasks = dagTaskIds(d.connIds);
  const pyDict = '{' + [...tasks].map(([id, t]) => `${JSON.stringify(id)}: ${JSON.stringify(t)}`).join(', ') + '}';
  const values: Record<string, string> = {
    CONN_IDS_TEXT: d.connIds.join(', '),
    TASK_IDS_PY: pyDict,
    BACKEND_CLASS: backendClassPath(d.airflowVersion),
    AIRFLOW_VERSION: d.airflowVersion === '1.10' ? '1.10' : `${d.airflowVersion}.x`,
    ENV_FILE: pyDocText(d.envFile),
    FIRST_TASK: tasks.get(d.connIds[0] ?? '') ?? '',
  };
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, k: string) => values[k] ?? '');
}

export const GITIGNORE_LINES = ['.env', 'docker.env', '.sandbox/', '.venv/'];

export function renderGitignore(existing: string | null): string {
  const have = new Set((existing ?? '').split(/\r?\n/).map((l) => l.trim()));
  const missing = GITIGNORE_LINES.filter((l) => !have.has(l) && !have.has(l.replace(/\/$/, '')) && !have.has('/' + l));
  if (existing !== null && missing.length === 0) return existing;
  const head =
    existing === null
      ? '# Written by create-secrets-sandbox: the env files hold the Vault token.\n'
      : existing.endsWith('\n') || existing === ''
        ? existing
        : existing + '\n';
  return head + missing.join('\n') + '\n';
}
