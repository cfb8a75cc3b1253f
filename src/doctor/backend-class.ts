/**
 * The backend class Airflow builds. Which class path imports is a fact of each Airflow major
 * (features.ts importableClassPaths): with Airflow at hand, or the major the sandbox is for, a
 * class that cannot import is proven; with neither, the 1.10 path is Airflow's to decide (2 maps
 * it, 3 cannot import it). A class path that ends with a carriage return (a .env saved with CRLF
 * line ends: bash keeps the `\r`) imports nowhere.
 */
import { shellArg } from '../ui/invocation.js';
import { airflowFeatures, CONTRIB_CLASS, PROVIDER_CLASS, type AirflowVersion } from '../airflow/backend/index.js';
import { envVarFix, reloadEnv } from './fixes.js';
import { type CheckInput, defineCheck, fail, ok, skip, warn } from './types.js';

/** The fix that sets the class where it is read from. */
function setClass(ctx: CheckInput, cls: string): string {
  const src = ctx.backend.classSource;
  if (src?.kind === 'cfg' && src.file)
    return `perl -pi -e 's/^backend\\s*=.*/backend = ${cls}/' ${shellArg(src.file)}  # [secrets] backend in airflow.cfg`;
  return envVarFix(ctx, 'AIRFLOW__SECRETS__BACKEND', cls);
}

/** A .env with CRLF line ends: strip the `\r`s, then load the file again into this shell. */
function crlfFix(file: string): string {
  return `perl -pi -e 's/\\r$//' ${shellArg(file)} && ${reloadEnv(file).replace(/; /g, ' && ')}`;
}

export const backendClass = defineCheck({
  id: 'backend-class',
  title: 'Secrets backend class',
  link: 'backend class',
  verdict: true,
  repair: true,
  async run(ctx) {
    const v = ctx.backendClass;
    if (!v)
      return fail(
        `[secrets] backend is not set (neither AIRFLOW__SECRETS__BACKEND in ${ctx.envSource} nor airflow.cfg): Airflow uses no secrets backend and never asks Vault`,
        setClass(ctx, PROVIDER_CLASS),
      );
    const where = ctx.backendSource;
    if (/\r$/.test(v)) {
      const file = ctx.backend.classSource?.file;
      return {
        ...fail(
          `'${v.replace(/\r/g, '\\r')}' (${where}) ends with a carriage return: the file has CRLF line ends, bash keeps the \\r in every value, and no Airflow imports that class`,
          file ? crlfFix(file) : setClass(ctx, v.trim()),
        ),
        repairable: false,
      };
    }
    // The major the verdict is about: Airflow's own, else the one the sandbox is for.
    const major: AirflowVersion | undefined = ctx.airflow?.major ?? ctx.intendedAirflow?.major;
    const who = ctx.airflow
      ? `Airflow ${ctx.airflow.version}`
      : ctx.intendedAirflow
        ? `Airflow ${ctx.intendedAirflow.major} (${ctx.intendedAirflow.source})`
        : undefined;
    if (major && who) {
      const f = airflowFeatures(major);
      if (!f.importableClassPaths.includes(v)) {
        const why = v === CONTRIB_CLASS ? 'the Airflow 1.10 class path' : `not a Vault backend ${who} imports`;
        return fail(`'${v}' (${where}) is ${why}: ${who} cannot build it`, setClass(ctx, f.classPath));
      }
      if (v !== f.classPath)
        return warn(
          `${v} (${where}) still imports on ${who}, but Airflow 3 cannot import it`,
          setClass(ctx, f.classPath),
        );
    } else if (v === CONTRIB_CLASS) {
      return skip(
        `${v} (${where}) is the Airflow 1.10 class path: Airflow 2 maps it to the provider's, Airflow 3 cannot import it, and no Airflow says which this is`,
      );
    } else if (v !== PROVIDER_CLASS) {
      return fail(`'${v}' (${where}) is not Airflow's VaultBackend`, setClass(ctx, PROVIDER_CLASS));
    }
    // The task side's [workers] backend is the workers check's.
    return ok(`${v} (${where})${who ? `, which ${who} imports` : ''}`);
  },
});
