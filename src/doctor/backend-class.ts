import { backendClassPath } from '../airflow/backend.js';
import { type Check, fail, ok, warn } from './types.js';

const CONTRIB = backendClassPath('1.10');
const PROVIDER = backendClassPath('3');

export const backendClass: Check = {
  id: 'backend-class',
  title: 'AIRFLOW__SECRETS__BACKEND',
  async run(ctx) {
    const v = ctx.env.get('AIRFLOW__SECRETS__BACKEND');
    const envHint = ctx.paths ? `set -a; . ${ctx.paths.env}; set +a` : `export AIRFLOW__SECRETS__BACKEND=${PROVIDER}`;
    if (!v) return fail(`not set in ${ctx.envSource}: Airflow uses no secrets backend and never asks Vault`, envHint);
    const major = ctx.airflow?.major;
    const workers = ctx.env.get('AIRFLOW__WORKERS__SECRETS_BACKEND');
    if (major === '1.10' && v !== CONTRIB) {
      if (v === PROVIDER) return warn(`${v} on Airflow 1.10 needs the backport provider package`, `use ${CONTRIB}`);
      return fail(`'${v}' is not the Vault backend of Airflow 1.10`, `set it to ${CONTRIB}`);
    }
    if (major === '2' && v === CONTRIB) {
      return warn(`${v} is the Airflow 1.10 class path: Airflow ${ctx.airflow!.version} still maps it to the provider, Airflow 3 cannot import it`, `set AIRFLOW__SECRETS__BACKEND=${PROVIDER}`);
    }
    if (major && major !== '1.10' && v !== PROVIDER) {
      const why = v === CONTRIB ? 'the Airflow 1.10 class path, which Airflow ' + ctx.airflow!.version + ' cannot import' : 'not the Vault backend';
      return fail(`'${v}' is ${why}`, `set AIRFLOW__SECRETS__BACKEND=${PROVIDER}`);
    }
    if (!major && v !== PROVIDER && v !== CONTRIB) return fail(`'${v}' is not Airflow's VaultBackend`, `set it to ${PROVIDER} (Airflow 2 and 3)`);
    if (workers && workers !== v) return warn(`${v}, but AIRFLOW__WORKERS__SECRETS_BACKEND is '${workers}': Airflow 3 task workers ask that one first`, 'unset AIRFLOW__WORKERS__SECRETS_BACKEND');
    return ok(major ? `${v} (right for Airflow ${ctx.airflow!.version})` : v);
  },
};
