/**
 * doctor's answer to a step that saw Airflow miss (src/airflow/diagnosis.ts): its checks, run on
 * Airflow's answer (or Airflow asked afresh, about the ids the step looked up), and the verdict.
 */
import type { Diagnose } from '../airflow/diagnosis.js';
import { buildDoctorContext } from './context.js';
import { examine } from './index.js';
import { VERDICT_ID } from './verdict.js';

export const diagnose: Diagnose = async (req) => {
  const dctx = await buildDoctorContext(req.dir, req.env ?? process.env, {
    airflow: req.airflow,
    probe: req.probe,
    ids: req.ids,
  });
  const judged = await examine(dctx);
  const verdict = judged.results.find((r) => r.id === VERDICT_ID);
  if (!judged.failed || !verdict) return null;
  return { why: verdict.detail, fix: verdict.fix, explainedBy: verdict.explainedBy };
};
