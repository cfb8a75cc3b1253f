/** Renders the files Airflow reads: the env file (shell and docker forms) and the example DAG. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { backendClassPath, backendKwargs, type AirflowVersion, type BackendTarget } from './backend.js';
import type { Flavour } from '../vault/binary.js';

export interface EnvInput extends BackendTarget {
  airflowVersion: AirflowVersion;
  flavour: Flavour;
  /** Set when the example DAG lives in the sandbox, so `airflow dags test` finds it with this env alone. */
  dagsFolder?: string;
}

export function envEntries(e: EnvInput): [string, string][] {
  const entries: [string, string][] = [
    ['AIRFLOW__SECRETS__BACKEND', backendClassPath(e.airflowVersion)],
    ['AIRFLOW__SECRETS__BACKEND_KWARGS', JSON.stringify(backendKwargs(e.airflowVersion, e))],
    ['VAULT_ADDR', e.url],
    ['VAULT_TOKEN', e.token],
  ];
  // bao reads BAO_ADDR first and falls back to VAULT_ADDR; setting both keeps a stale BAO_ADDR from winning.
  if (e.flavour === 'OpenBao') entries.push(['BAO_ADDR', e.url], ['BAO_TOKEN', e.token]);
  if (e.dagsFolder) entries.push(['AIRFLOW__CORE__DAGS_FOLDER', e.dagsFolder]);
  return entries;
}

/** POSIX single quotes: nothing inside is expanded; a literal ' is written as '\''. */
export function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** For `set -a; . ./.env; set +a`, docker compose's env_file and python-dotenv: all strip single quotes. */
export function renderShellEnv(e: EnvInput): string {
  const lines = [
    `# Written by create-secrets-sandbox for Airflow ${e.airflowVersion} and a ${e.flavour} dev server.`,
    '# Holds the root token of the sandbox server: keep it private (mode 0600, git-ignored).',
    '# Load it before starting Airflow:   set -a; . ./.env; set +a',
    '# For `docker run --env-file` use docker.env instead: docker keeps quotes as part of the value.',
    ...envEntries(e).map(([k, v]) => `${k}=${shellQuote(v)}`),
  ];
  return lines.join('\n') + '\n';
}

/** For `docker run --env-file`: one KEY=value a line, taken literally (docker strips no quotes). */
export function renderDockerEnv(e: EnvInput): string {
  const lines = [
    '# Written by create-secrets-sandbox for `docker run --network host --env-file docker.env ...`.',
    '# Values are literal: docker does not strip quotes. The server listens on loopback, hence --network host.',
    ...envEntries(e).map(([k, v]) => `${k}=${v}`),
  ];
  return lines.join('\n') + '\n';
}

/** Reads KEY=VALUE lines back as a shell would for the quoting we write (single quotes, or bare). */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim().replace(/^export\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1);
    let parsed = '';
    // Concatenated shell words: 'a'\''b' -> a'b ; "x" ; bare
    while (value.length) {
      if (value.startsWith("'")) {
        const end = value.indexOf("'", 1);
        if (end < 0) {
          parsed += value.slice(1);
          break;
        }
        parsed += value.slice(1, end);
        value = value.slice(end + 1);
      } else if (value.startsWith('"')) {
        const end = value.indexOf('"', 1);
        parsed += end < 0 ? value.slice(1) : value.slice(1, end).replace(/\\(["\\$`])/g, '$1');
        value = end < 0 ? '' : value.slice(end + 1);
      } else if (value.startsWith('\\')) {
        parsed += value.slice(1, 2);
        value = value.slice(2);
      } else {
        const m = value.match(/^[^'"\\\s]+/);
        if (!m) break;
        parsed += m[0];
        value = value.slice(m[0].length);
      }
    }
    out.set(key, parsed);
  }
  return out;
}

export interface DagInput {
  airflowVersion: AirflowVersion;
  connIds: string[];
  envFile: string;
}

export function renderDag(d: DagInput): string {
  const file = d.airflowVersion === '1.10' ? 'example_secrets_dag_airflow1.py' : 'example_secrets_dag.py';
  const template = readFileSync(join(packageRoot(), 'templates', 'dags', file), 'utf8');
  const pyList = '[' + d.connIds.map((id) => JSON.stringify(id)).join(', ') + ']';
  const values: Record<string, string> = {
    CONN_IDS_TEXT: d.connIds.join(', '),
    CONN_IDS_PY: pyList,
    BACKEND_CLASS: backendClassPath(d.airflowVersion),
    AIRFLOW_VERSION: d.airflowVersion === '1.10' ? '1.10' : `${d.airflowVersion}.x`,
    ENV_FILE: d.envFile,
    FIRST_TASK: (d.connIds[0] ?? '').replace(/[.-]/g, '_'),
  };
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, k: string) => values[k] ?? '');
}

export const GITIGNORE_LINES = ['.env', 'docker.env', '.sandbox/', '.venv/'];

export function renderGitignore(existing: string | null): string {
  const have = new Set((existing ?? '').split(/\r?\n/).map((l) => l.trim()));
  const missing = GITIGNORE_LINES.filter((l) => !have.has(l) && !have.has(l.replace(/\/$/, '')) && !have.has('/' + l));
  if (existing !== null && missing.length === 0) return existing;
  const head = existing === null ? '# Written by create-secrets-sandbox: the env files hold the Vault token.\n' : existing.endsWith('\n') || existing === '' ? existing : existing + '\n';
  return head + missing.join('\n') + '\n';
}
