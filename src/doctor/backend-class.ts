import { CONTRIB_CLASS, PROVIDER_CLASS } from '../airflow/backend/index.js';
import { type Check, fail, ok, warn } from './types.js';

const CONTRIB = CONTRIB_CLASS;
const PROVIDER = PROVIDER_CLASS;

export const backendClass: Check = {
  id: 'backend-class',
  title: 'Secrets backend class',
  link: 'backend class',
  async run(ctx) {
    const v = ctx.backendClass;
    // An edit of the sandbox .env, or an export in the shell Airflow starts from.
    const setTo = (cls: string) =>
      ctx.paths
        ? `edit ${ctx.paths.env}: AIRFLOW__SECRETS__BACKEND='${cls}'`
        : `export AIRFLOW__SECRETS__BACKEND=${cls}`;
    const envHint = setTo(PROVIDER);
    if (!v)
      return fail(
        `[secrets] backend is not set (neither AIRFLOW__SECRETS__BACKEND in ${ctx.envSource} nor airflow.cfg): Airflow uses no secrets backend and never asks Vault`,
        envHint,
      );
    const where = ctx.backendSource;
    // Without an Airflow to ask, the major the sandbox is for (its config, or the Airflow last found).
    const major = ctx.airflow?.major ?? ctx.intendedAirflow?.major;
    const airflow = ctx.airflow
      ? `Airflow ${ctx.airflow.version}`
      : ctx.intendedAirflow
        ? `Airflow ${ctx.intendedAirflow.major} (${ctx.intendedAirflow.source}; no Airflow found to ask)`
        : '';
    const workers = ctx.env.get('AIRFLOW__WORKERS__SECRETS_BACKEND');
    if (major === '1.10' && v !== CONTRIB) {
      if (v === PROVIDER) return warn(`${v} on Airflow 1.10 needs the backport provider package`, setTo(CONTRIB));
      return fail(`'${v}' (${where}) is not the Vault backend of Airflow 1.10`, setTo(CONTRIB));
    }
    if (major === '2' && v === CONTRIB) {
      return warn(
        `${v} (${where}) is the Airflow 1.10 class path: ${airflow} still maps it to the provider, Airflow 3 cannot import it`,
        setTo(PROVIDER),
      );
    }
    if (major && major !== '1.10' && v !== PROVIDER) {
      const why =
        v === CONTRIB ? `the Airflow 1.10 class path, which ${airflow} cannot import` : 'not the Vault backend';
      return fail(`'${v}' (${where}) is ${why}`, setTo(PROVIDER));
    }
    if (!major && v !== PROVIDER && v !== CONTRIB)
      return fail(`'${v}' (${where}) is not Airflow's VaultBackend`, setTo(PROVIDER));
    if (!major && v === CONTRIB) {
      return warn(
        `${v} (${where}) is the Airflow 1.10 class path: Airflow 2 maps it to the provider, Airflow 3 cannot import it (no Airflow found to tell which)`,
        setTo(PROVIDER),
      );
    }
    if (workers && workers !== v)
      return warn(
        `${v}, but AIRFLOW__WORKERS__SECRETS_BACKEND is '${workers}': Airflow 3 task workers ask that one first`,
        'unset AIRFLOW__WORKERS__SECRETS_BACKEND',
      );
    return ok(`${v} (${where})${major ? `, right for ${airflow}` : ''}`);
  },
};
