/**
 * The one writer of Airflow's Vault backend settings: the kwargs JSON for a sandbox's target, and
 * the env files that carry it with the rest of what Airflow and the vault/bao CLIs read (.env for
 * bash, docker compose and python-dotenv alike; docker.env for `docker run --env-file`). What it
 * writes, readBackendSettings reads back as Airflow does (test/unit/backend-writer.test.ts).
 */
import { UsageError } from '../../errors.js';
import { maskToken } from '../../ui/mask.js';
import type { Flavour } from '../../vault/binary.js';
import { airflowFeatures, type AirflowVersion } from '../features.js';

export interface BackendTarget {
  url: string;
  token: string;
  mount: string;
  connectionsPath: string;
  variablesPath: string;
  kvVersion: 1 | 2;
  /**
   * How Airflow logs in, as the auth method's own kwargs (src/vault/auth: `auth_type`, `role_id`,
   * `secret_id`, ...). Absent: the token above.
   */
  auth?: Record<string, unknown>;
  /** CA file for an https url: `verify` (requests' meaning of a path: trust this CA). */
  caFile?: string;
  /** Vault namespace, passed through to hvac.Client. */
  namespace?: string;
}

/**
 * The kwargs object, keys in a stable order. Numbers stay numbers (2.x rejects "2"; 1.10 would read
 * "1" as v2). `config_path: null` only where the provider understands null: on 1.10 an unknown key
 * reaches hvac.Client and raises TypeError, and a null path crashes `.rstrip`.
 */
export function backendKwargs(v: AirflowVersion, t: BackendTarget): Record<string, unknown> {
  const features = airflowFeatures(v);
  const kwargs: Record<string, unknown> = {
    connections_path: t.connectionsPath,
    variables_path: t.variablesPath,
  };
  if (features.nullPaths) kwargs.config_path = null;
  kwargs.mount_point = t.mount;
  kwargs.kv_engine_version = t.kvVersion;
  kwargs.url = t.url;
  // hvac.Client takes both through the provider's **kwargs; `verify` also reaches its requests session.
  if (t.caFile) kwargs.verify = t.caFile;
  if (t.namespace) kwargs.namespace = t.namespace;
  // Always explicit: 1.10 and providers before 3.6.3 ignore VAULT_TOKEN.
  if (t.auth) Object.assign(kwargs, t.auth);
  else kwargs.token = t.token;
  return kwargs;
}

export interface EnvInput extends BackendTarget {
  airflowVersion: AirflowVersion;
  flavour: Flavour;
  /** Set when the example DAG lives in the sandbox, so `airflow dags test` finds it with this env alone. */
  dagsFolder?: string;
  /** NO_PROXY entries to keep besides the sandbox's loopback ones (see noProxyEntries). */
  noProxy?: string[];
  /** An existing server (--vault-url), not a dev server the sandbox started. */
  existing?: boolean;
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
    ['AIRFLOW__SECRETS__BACKEND', airflowFeatures(e.airflowVersion).classPath],
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
  // Airflow's own ~90 example DAGs would crowd the sandbox's out of `dags list` and `dags reserialize`.
  entries.push(['AIRFLOW__CORE__LOAD_EXAMPLES', 'False']);
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

/** `an OpenBao dev server`, `a Vault dev server`; an existing server is named by its address. */
function serverWords(e: EnvInput): string {
  if (e.existing) return `the ${e.flavour} at ${e.url}`;
  return `${/^[AEIOU]/.test(e.flavour) ? 'an' : 'a'} ${e.flavour} dev server`;
}

const LOAD_EXAMPLES_NOTE =
  "# AIRFLOW__CORE__LOAD_EXAMPLES=False keeps Airflow's own example DAGs out: the DAG list shows the sandbox's.";

/** For `set -a; . ./.env; set +a`, docker compose's env_file and python-dotenv. */
export function renderShellEnv(e: EnvInput): string {
  const lines = [
    `# Written by create-secrets-sandbox for Airflow ${e.airflowVersion} and ${serverWords(e)}.`,
    e.auth
      ? '# Holds the credentials Airflow logs in with (not the root token): keep it private (mode 0600, git-ignored).'
      : '# Holds the root token of the sandbox server: keep it private (mode 0600, git-ignored).',
    '# Load it before starting Airflow:   set -a; . ./.env; set +a',
    '# For `docker run --env-file` use docker.env instead: docker keeps quotes as part of the value.',
    '# NO_PROXY keeps the token off any HTTP proxy; entries you add to it are kept on rewrite.',
    LOAD_EXAMPLES_NOTE,
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
    LOAD_EXAMPLES_NOTE,
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
 * The writer's own reading of an env file it is about to rewrite: the keys a user's edit changed
 * (said by name when the file is kept) and the NO_PROXY entries to carry over. Never a verdict on
 * what Airflow gets: that is userEnvironment's (bash itself sources the file).
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
      const c = text.charAt(i);
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        value += text.slice(i + 1, end < 0 ? n : end);
        i = end < 0 ? n : end + 1;
      } else if (c === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n && '\\"$`\n'.includes(text.charAt(i + 1))) {
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
