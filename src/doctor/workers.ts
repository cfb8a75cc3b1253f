/**
 * The task side of Airflow 3. A task builds its first secrets backend from `[workers]
 * secrets_backend` and `secrets_backend_kwargs` when that class is set, else from `[secrets]`;
 * `airflow connections get`, the scheduler and the API server use `[secrets]` alone. So a
 * `[workers]` setting that differs changes what every task reads and nothing the server side
 * shows: a task whose own Vault lookup fails still gets the connection from the API server (from
 * its Vault, or its metastore), and a broken setting goes unseen. The settings and their sources
 * come from the one reader (src/airflow/backend, side 'worker'); with Airflow's answer (the probe
 * builds the task side's backend as a task does and asks it) this check says what the difference
 * does to each id.
 */
import { describeSource, type BackendRead } from '../airflow/backend/index.js';
import { describeException, rootCause, taskSideMisses, type ProbeReport, type WorkerView } from '../airflow/probe.js';
import { type CheckInput, defineCheck, fail, ok, skip, warn } from './types.js';

const PREFIX = 'AIRFLOW__WORKERS__SECRETS_BACKEND';

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

/** Where the task side's kwargs come from: the JSON's source and each per-key variable over it. */
function kwargsSources(w: BackendRead): string {
  const names = new Map<string, string>();
  for (const s of [w.kwargsSource, ...Object.values(w.keySources)]) if (s) names.set(s.name, describeSource(s));
  return [...names.values()].join(', ');
}

/** What the task side is, in one phrase: its class, where it comes from, how its kwargs differ. */
function describeTaskSide(w: BackendRead, ctx: CheckInput): string {
  const cls = w.settings.classPath ?? '(none)';
  const other = ctx.backendClass && cls !== ctx.backendClass ? `, not ${ctx.backendClass}` : '';
  const from = w.classSource ? ` (${describeSource(w.classSource)})` : '';
  const sources = kwargsSources(w);
  const diff = kwargsDifference(ctx.kwargs ?? {}, w.kwargs);
  return `[workers] secrets_backend = ${cls}${other}${from}, with ${sources ? `kwargs from ${sources}` : 'no kwargs'}${diff ? ` that ${diff}` : ', the same as [secrets] backend_kwargs'}`;
}

/** What to unset or remove for tasks to use [secrets] again, from where each setting came. */
function unsetFix(w: BackendRead, ctx: CheckInput): string {
  const sources = [w.classSource, w.kwargsSource, ...Object.values(w.keySources)].filter((s) => s !== undefined);
  const vars = [...new Set(sources.filter((s) => s.kind.startsWith('env') || s.kind === 'per-key').map((s) => s.name))];
  const cfg = [
    ...new Set(
      sources.filter((s) => s.kind.startsWith('cfg')).map((s) => `remove ${s.name} from [workers] in ${s.file}`),
    ),
  ];
  const inFile = sources.some((s) => s.origin === 'env-file');
  const steps = [
    vars.length ? `unset ${vars.join(' ')}${inFile ? ` (and remove them from ${ctx.envSource})` : ''}` : '',
    ...cfg,
  ];
  return `${steps.filter(Boolean).join('; ')}: tasks then use [secrets] backend, as the server side does (or give [workers] the sandbox's url and credentials)`;
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

export const workers = defineCheck({
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
    const w = ctx.workerBackend;
    const p = ctx.probe;
    const view = p && !p.init_error ? p.workers : undefined;
    // [workers] kwargs without a [workers] class: Airflow takes [secrets] with its own kwargs.
    if (w?.section !== 'workers') {
      const ignored = view?.section === 'secrets' || said.length > 0;
      return ignored
        ? warn(
            `${said.join(', ') || '[workers] secrets_backend_kwargs'} is ignored: [workers] secrets_backend is not set, so tasks use [secrets] backend with [secrets] backend_kwargs`,
            `unset ${said.join(' ') || 'the [workers] options'}`,
          )
        : ok('no [workers] secrets_backend: tasks use [secrets] backend, as the server side does');
    }
    const what = describeTaskSide(w, ctx);
    if (!ctx.airflow || !p || p.init_error || !view)
      return warn(
        `tasks build their backend from ${what}; only Airflow can say what a task then reads`,
        'run doctor where Airflow 3 is installed (airflow on PATH, or --airflow-bin) to ask the task side as a task would',
      );
    if (view.init_error)
      return fail(
        `a task cannot build its backend (${what}): ${describeException(view.init_error.chain)}; every task lookup skips it and asks the API server`,
        unsetFix(w, ctx),
      );
    const misses = missText(p, view);
    if (misses.lines.length)
      return fail(
        `a task asks its own backend first: ${what}; it does not resolve ${misses.text}. A task then gets them from the API server, not from its own lookup`,
        unsetFix(w, ctx),
        misses.lines,
      );
    return ok(`tasks use their own backend (${what}), and it resolves every id too`);
  },
});
