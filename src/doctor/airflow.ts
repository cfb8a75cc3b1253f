import { versionAtLeast } from '../vault/binary.js';
import { askAirflowCommand } from './fixes.js';
import { defineCheck, fail, ok, warn } from './types.js';

export const airflow = defineCheck({
  id: 'airflow',
  title: 'Airflow and the hashicorp provider',
  link: 'setup',
  async run(ctx) {
    const a = ctx.airflow;
    if (!a) {
      return warn(
        `no Airflow found (airflow on PATH${ctx.paths ? `, or ${ctx.paths.venvAirflow}` : ''}): doctor decides only what Vault and the files prove, and leaves the rest to Airflow`,
        `${askAirflowCommand(ctx)}  # asks a pinned Airflow, installed once into the tool's cache`,
      );
    }
    const where = `Airflow ${a.version} at ${a.bin}`;
    if (a.major === '1.10') {
      return a.hvac
        ? ok(`${where} (contrib VaultBackend, hvac ${a.hvac})`)
        : fail(`${where} has no hvac`, `${a.python} -m pip install 'apache-airflow[hashicorp]==${a.version}'`);
    }
    if (!a.provider)
      return fail(
        `${where} has no apache-airflow-providers-hashicorp: VaultBackend cannot be imported`,
        `${a.python} -m pip install apache-airflow-providers-hashicorp`,
      );
    if (a.major === '3' && !versionAtLeast(a.provider, [4, 0, 0])) {
      return warn(
        `${where} with hashicorp provider ${a.provider}: Airflow 3 needs provider 4.x`,
        `${a.python} -m pip install -U apache-airflow-providers-hashicorp`,
      );
    }
    return ok(`${where}, hashicorp provider ${a.provider}, hvac ${a.hvac ?? '?'}`);
  },
});
