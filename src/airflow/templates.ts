/** Renders the example DAG and the .gitignore (the env files are the backend settings writer's: backend/writer.ts). */
import { readFileSync } from 'node:fs';
import { sha256 } from '../io/write.js';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { airflowFeatures, type AirflowVersion } from './backend/index.js';

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
    BACKEND_CLASS: airflowFeatures(d.airflowVersion).classPath,
    AIRFLOW_VERSION: d.airflowVersion === '1.10' ? '1.10' : `${d.airflowVersion}.x`,
    ENV_FILE: pyDocText(d.envFile),
    FIRST_TASK: tasks.get(d.connIds[0] ?? '') ?? '',
  };
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, k: string) => values[k] ?? '');
}

/** `existing` with every entry of `entries` (the sandbox's, src/sandbox/names.ts) it does not cover yet. */
export function renderGitignore(existing: string | null, entries: readonly string[]): string {
  const have = new Set((existing ?? '').split(/\r?\n/).map((l) => l.trim()));
  const missing = entries.filter((l) => !have.has(l) && !have.has(l.replace(/\/$/, '')) && !have.has('/' + l));
  if (existing !== null && missing.length === 0) return existing;
  const head =
    existing === null
      ? '# Written by create-secrets-sandbox: the env files hold the Vault token.\n'
      : existing.endsWith('\n') || existing === ''
        ? existing
        : existing + '\n';
  return head + missing.join('\n') + '\n';
}
