/**
 * The task side of Airflow 3. A task builds its first secrets backend from `[workers]
 * secrets_backend` and `secrets_backend_kwargs` when that class is set, else from `[secrets]`;
 * `airflow connections get`, the scheduler and the API server use `[secrets]` alone. So a
 * `[workers]` setting that differs changes what every task reads and nothing the server side
 * shows: a task whose own Vault lookup fails still gets the connection from the API server (from
 * its Vault, or its metastore), and a broken setting goes unseen. With Airflow's answer (the probe
 * builds the task side's backend as a task does and asks it), this check names the difference and
 * what it does to each id.
 */
import {
  describeException,
  rootCause,
  taskSideMisses,
  type ConfigEntry,
  type ProbeReport,
  type WorkerView,
} from '../airflow/probe.js';
import { type Check, type CheckInput, fail, ok, skip, warn } from './types.js';

const PREFIX = 'AIRFLOW__WORKERS__SECRETS_BACKEND';
const PER_KEY = 'AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__';

function where(e: ConfigEntry, ctx: CheckInput): string {
  if (e.source === 'environment')
    return `${e.name} in ${ctx.envFileKeys.has(e.name ?? '') ? ctx.envSource : 'the environment'}`;
  if (e.source === 'airflow.cfg') return `[workers] ${e.name} in ${e.file}`;
  return 'not set';
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (!text?.trim()) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The task side's kwargs as Airflow lays them: the JSON, then each per-key variable on top. */
function workerKwargs(w: WorkerView, env: ReadonlyMap<string, string>): Record<string, unknown> {
  const kw = { ...(parseObject(w.config.secrets_backend_kwargs.value) ?? {}) };
  for (const key of w.per_key_kwargs) kw[key] = env.get(`${PER_KEY}${key.toUpperCase()}`);
  return kw;
}

/** How the kwargs differ between the server side and the task side, by key name only (values may be secrets). */
export function kwargsDifference(server: Record<string, unknown>, worker: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(server), ...Object.keys(worker)])].sort();
  const differ = keys.filter(
    (k) => k in server && k in worker && JSON.stringify(server[k]) !== JSON.stringify(worker[k]),
  );
  const lack = keys.filter((k) => !(k in worker));
  const extra = keys.filter((k) => !(k in server));
  return [
    differ.length ? `differ from [secrets] backend_kwargs in ${differ.join(', ')}` : '',
    lack.length ? `lack ${lack.join(', ')}` : '',
    extra.length ? `add ${extra.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
}

/** What the task side is, in one phrase: its class, where it comes from, how its kwargs differ. */
function describeTaskSide(w: WorkerView, ctx: CheckInput): string {
  const cls = w.config.secrets_backend;
  const kw = w.config.secrets_backend_kwargs;
  const other = cls.value && ctx.backendClass && cls.value !== ctx.backendClass ? `, not ${ctx.backendClass}` : '';
  const kwFrom = [
    kw.source === 'default' ? '' : where(kw, ctx),
    ...w.per_key_kwargs.map((k) => `${PER_KEY}${k.toUpperCase()}`),
  ]
    .filter(Boolean)
    .join(', ');
  const diff = kwargsDifference(ctx.kwargs ?? {}, workerKwargs(w, ctx.env));
  const kwText = kwFrom ? `kwargs from ${kwFrom}` : 'no kwargs';
  return `[workers] secrets_backend = ${cls.value}${other} (${where(cls, ctx)}), with ${kwText}${diff ? ` that ${diff}` : ', the same as [secrets] backend_kwargs'}`;
}

/** The variables to unset (or the airflow.cfg options to remove) for tasks to use [secrets] again. */
function unsetFix(w: WorkerView, ctx: CheckInput): string {
  const names = [w.config.secrets_backend, w.config.secrets_backend_kwargs]
    .filter((e) => e.source === 'environment')
    .map((e) => e.name ?? '');
  names.push(...w.per_key_kwargs.map((k) => `${PER_KEY}${k.toUpperCase()}`));
  const cfg = [w.config.secrets_backend, w.config.secrets_backend_kwargs].filter((e) => e.source === 'airflow.cfg');
  const steps = [
    names.length
      ? `unset ${names.join(' ')}${names.some((n) => ctx.envFileKeys.has(n)) ? ` (and remove them from ${ctx.envSource})` : ''}`
      : '',
    ...cfg.map((e) => `remove ${e.name} from [workers] in ${e.file}`),
  ].filter(Boolean);
  return `${steps.join('; ')}: tasks then use [secrets] backend, as the server side does (or give [workers] the sandbox's url and credentials)`;
}

/** The ids the task side misses, grouped by what it said (usually one error for all). */
function missText(p: ProbeReport, w: WorkerView): { text: string; lines: string[] } {
  const byReason = new Map<string, { ids: string[]; said: string }>();
  for (const id of taskSideMisses(p)) {
    const a = w.connections[id] ?? w.variables[id];
    const root = rootCause(a?.error);
    const kind = root ? `${root.name}${root.status ? ` (HTTP ${root.status})` : ''}` : 'not there';
    const entry = byReason.get(kind) ?? { ids: [], said: root ? `${kind}: ${root.message.slice(0, 200)}` : kind };
    entry.ids.push(id);
    byReason.set(kind, entry);
  }
  const lines = [...byReason.values()].map((e) => `${e.ids.join(', ')}: ${e.said}`);
  return { text: lines.join('; '), lines };
}

export const workers: Check = {
  id: 'workers',
  title: "The task side's backend ([workers], Airflow 3)",
  link: 'config source',
  async run(ctx) {
    const major = ctx.airflow?.major ?? ctx.intendedAirflow?.major;
    const said = [...ctx.env.keys()].filter((k) => k.startsWith(PREFIX));
    if (major && major !== '3')
      return said.length
        ? ok(`${said.join(', ')} set, but Airflow ${major} has no [workers] secrets backend: tasks use [secrets]`)
        : skip(`Airflow ${major}: tasks use [secrets] backend`);
    const p = ctx.probe;
    if (!p || p.init_error || !ctx.airflow) {
      if (!said.length) return ok('no [workers] secrets option in the environment: tasks use [secrets] backend');
      return warn(
        `${said.join(', ')} set: on Airflow 3 tasks build their backend from [workers] when its class is set; only Airflow can say what a task then reads`,
        'run doctor where Airflow 3 is installed (airflow on PATH, or --airflow-bin) to ask the task side as a task would',
      );
    }
    const w = p.workers;
    if (!w) return ok('no [workers] secrets option set: tasks use [secrets] backend, as the server side does');
    if (w.init_error)
      return fail(
        `a task cannot build its backend (${describeTaskSide(w, ctx)}): ${describeException(w.init_error.chain)}; every task lookup skips it and asks the API server`,
        unsetFix(w, ctx),
      );
    if (w.section === 'secrets') {
      const kw = w.config.secrets_backend_kwargs;
      return warn(
        `${[kw.source === 'default' ? '' : where(kw, ctx), ...w.per_key_kwargs.map((k) => `${PER_KEY}${k.toUpperCase()}`)].filter(Boolean).join(', ')} is ignored: [workers] secrets_backend is not set, so tasks use [secrets] backend with [secrets] backend_kwargs`,
        unsetFix(w, ctx),
      );
    }
    const misses = missText(p, w);
    const what = describeTaskSide(w, ctx);
    if (misses.lines.length)
      return fail(
        `a task asks its own backend first: ${what}; it does not resolve ${misses.text}. A task then gets them from the API server, not from its own lookup`,
        unsetFix(w, ctx),
        misses.lines,
      );
    return ok(`tasks use their own backend (${what}), and it resolves every id too`);
  },
};
