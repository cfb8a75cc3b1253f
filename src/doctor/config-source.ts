/**
 * Whether the settings reach Airflow as written: what the backend-settings reader (held to real
 * Airflow by test/e2e/backend-settings.airflow.test.ts) says went wrong reading them. A value that
 * stops every airflow command at start-up (a lone `%` in airflow.cfg, a `_CMD` whose program does
 * not exist) is proven; a value only Airflow can read (a `_SECRET`) is Airflow's to decide;
 * per-key kwargs are applied by Airflow 3.3 and ignored by 2.11.
 */
import { shellArg } from '../ui/invocation.js';
import {
  constructionError,
  describeSource,
  envVarName,
  perKeyPrefix,
  type ReadProblem,
} from '../airflow/backend/index.js';
import { envVarFix, kwargsFix, toolMade, upFix, YOUR_KWARGS, yourCredential } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, skip, warn } from './types.js';

function where(p: ReadProblem): string {
  return p.source ? `${p.option} (${describeSource(p.source)})` : p.option;
}

/** A command that doubles each lone `%` of the kwargs line in airflow.cfg (configparser reads `%%` as `%`). */
function percentFix(file: string, option: string): string {
  return `perl -pi -e 's/(?<!%)%(?!%)/%%/g if /^${option}\\s*=/' ${shellArg(file)}  # configparser reads %% as one %`;
}

/**
 * Kwargs named by a `_SECRET` (or `_secret`) are read through the very backend they build, so
 * they never arrive. Airflow reads the plain variable before any `_CMD` or `_SECRET` of the same
 * option, in the environment or airflow.cfg (configuration.py `_get_env_var_option`): setting it
 * is the repair, where the sandbox's instructions load it. The sandbox this tool made writes it
 * itself; anyone else's JSON only its owner knows, so theirs goes in the placeholder's place.
 */
function secretFix(ctx: CheckInput, p: ReadProblem): string | undefined {
  const src = p.source;
  if (!src) return undefined;
  if (src.origin === 'env-file' && toolMade(ctx)) {
    const up = upFix(ctx);
    if (up) return up;
  }
  const plain =
    src.kind === 'env-secret'
      ? src.name.replace(/_SECRET$/, '')
      : envVarName(src.section ?? 'secrets', src.name.replace(/_secret$/, ''));
  const set = envVarFix(ctx, plain, YOUR_KWARGS);
  return `${set}  # Airflow reads ${plain} before ${src.name}, which it cannot read through the backend it is building`;
}

function fixFor(ctx: CheckInput, p: ReadProblem): string | undefined {
  if (p.kind === 'cfg-interpolation' && p.source?.file) return percentFix(p.source.file, p.source.name);
  if (p.kind === 'secret') return secretFix(ctx, p);
  return undefined;
}

/** Per-key kwargs variables in the environment, and whether this Airflow applies them. */
function perKeyVariables(ctx: CheckInput): string[] {
  const prefix = perKeyPrefix('secrets', 'backend_kwargs');
  return [...ctx.env.keys()].filter((k) => k.startsWith(prefix) && k.length > prefix.length);
}

/** Kwargs that hold a credential: moved into the JSON as the user's placeholder, never printed. */
const SECRET_KWARGS = new Set(['token', 'secret_id', 'password', 'role_id', 'jwt_token', 'radius_secret']);

/**
 * Per-key variables an Airflow without per-key kwargs ignores, when one of them holds what the
 * provider needs to build the backend (a token, a role_id): the setting never reaches Airflow, and
 * the repair is the same key in the kwargs JSON it does read.
 */
function ignoredButNeeded(ctx: CheckInput, perKey: string[]): { names: string[]; fix: string } | undefined {
  const prefix = perKeyPrefix('secrets', 'backend_kwargs');
  const built = constructionError(ctx.backend.kwargs, ctx.env);
  if (!built) return undefined;
  const needed = perKey.filter((name) => {
    const key = name.slice(prefix.length).toLowerCase();
    return constructionError({ ...ctx.backend.kwargs, [key]: ctx.env.get(name) }, ctx.env) !== built;
  });
  if (!needed.length) return undefined;
  const ops = Object.fromEntries(
    needed.map((name) => {
      const key = name.slice(prefix.length).toLowerCase();
      return [key, { set: SECRET_KWARGS.has(key) ? yourCredential(key) : ctx.env.get(name) }];
    }),
  );
  return { names: needed, fix: kwargsFix(ctx, ops) };
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
      return fail(`${where(stops)}: ${stops.message}: ${effect}`, fixFor(ctx, stops));
    }
    const unknown = problems.find((p) => p.effect === 'unknown');
    if (unknown) {
      const said = `${where(unknown)}: ${unknown.message}`;
      // Asked, Airflow shows what it made of it: stopped at start-up, or read it.
      if (ctx.probe?.init_error) return fail(said, fixFor(ctx, unknown));
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
    const lost = perKey.length && !ctx.backend.features.perKeyKwargs ? ignoredButNeeded(ctx, perKey) : undefined;
    if (lost)
      return fail(
        `${lost.names.join(', ')} ${lost.names.length > 1 ? 'are' : 'is'} ignored: Airflow ${ctx.backend.features.version} has no per-key kwargs, and the provider cannot build VaultBackend without it`,
        lost.fix,
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
