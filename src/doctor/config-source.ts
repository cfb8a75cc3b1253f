/**
 * Whether the settings reach Airflow as written: what the backend-settings reader (held to real
 * Airflow by test/e2e/backend-settings.airflow.test.ts) says went wrong reading them. A value that
 * stops every airflow command at start-up (a lone `%` in airflow.cfg, a `_CMD` whose program does
 * not exist) is proven; a value only Airflow can read (a `_SECRET`) is Airflow's to decide;
 * per-key kwargs are applied by Airflow 3.3 and ignored by 2.11.
 */
import { shellArg } from '../ui/invocation.js';
import { describeSource, perKeyPrefix, type ReadProblem } from '../airflow/backend/index.js';
import { type CheckInput, defineCheck, fail, ok, skip, warn } from './types.js';

function where(p: ReadProblem): string {
  return p.source ? `${p.option} (${describeSource(p.source)})` : p.option;
}

/** A command that doubles each lone `%` of the kwargs line in airflow.cfg (configparser reads `%%` as `%`). */
function percentFix(file: string, option: string): string {
  return `perl -pi -e 's/(?<!%)%(?!%)/%%/g if /^${option}\\s*=/' ${shellArg(file)}  # configparser reads %% as one %`;
}

function fixFor(p: ReadProblem): string | undefined {
  if (p.kind === 'cfg-interpolation' && p.source?.file) return percentFix(p.source.file, p.source.name);
  if (p.kind === 'secret')
    return `unset ${p.source?.name ?? 'AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET'}  # and set AIRFLOW__SECRETS__BACKEND_KWARGS itself`;
  return undefined;
}

/** Per-key kwargs variables in the environment, and whether this Airflow applies them. */
function perKeyVariables(ctx: CheckInput): string[] {
  const prefix = perKeyPrefix('secrets', 'backend_kwargs');
  return [...ctx.env.keys()].filter((k) => k.startsWith(prefix) && k.length > prefix.length);
}

export const configSource = defineCheck({
  id: 'config-source',
  title: 'Where the settings come from',
  link: 'config source',
  verdict: true,
  async run(ctx) {
    const problems = ctx.backend.problems.filter((p) => p.kind !== 'kwargs-not-json' && p.kind !== 'kwargs-not-object');
    const stops = problems.find((p) => p.effect === 'fails' || p.effect === 'hangs');
    if (stops) {
      const effect =
        stops.effect === 'hangs' ? 'Airflow never finishes reading it' : 'every airflow command fails at start-up';
      return fail(`${where(stops)}: ${stops.message}: ${effect}`, fixFor(stops));
    }
    const unknown = problems.find((p) => p.effect === 'unknown');
    if (unknown) {
      const said = `${where(unknown)}: ${unknown.message}`;
      // Asked, Airflow shows what it made of it: stopped at start-up, or read it.
      if (ctx.probe?.init_error) return fail(said, fixFor(unknown));
      return ctx.probe ? warn(said) : skip(said);
    }
    const notes: string[] = problems
      .filter((p) => p.effect === 'logged')
      .map((p) => `${where(p)}: ${p.message} (Airflow logs it and goes on)`);
    if (ctx.envFileError) notes.push(`${ctx.envFileError}: the environment alone was read`);
    const perKey = perKeyVariables(ctx);
    const major = ctx.airflow?.major ?? ctx.intendedAirflow?.major;
    if (perKey.length && !major)
      return skip(
        `${perKey.join(', ')} set: Airflow 3.3 lays per-key kwargs over the JSON, Airflow 2.11 ignores them, and no Airflow says which this is`,
      );
    if (perKey.length && !ctx.backend.features.perKeyKwargs)
      notes.push(
        `${perKey.join(', ')} ${perKey.length > 1 ? 'are' : 'is'} ignored: Airflow ${ctx.backend.features.version} has no per-key kwargs`,
      );
    const sources = [
      ctx.backend.classSource ? `class from ${describeSource(ctx.backend.classSource)}` : undefined,
      ctx.backend.kwargsSource ? `kwargs from ${describeSource(ctx.backend.kwargsSource)}` : undefined,
    ].filter(Boolean);
    const summary = sources.join('; ') || 'nothing set';
    return notes.length ? warn(`${summary}; ${notes.join('; ')}`) : ok(summary);
  },
});
