/**
 * doctor's answer to a step that saw Airflow miss (src/airflow/diagnosis.ts): its checks, run on
 * Airflow's answer, and the verdict they lead to.
 */
import type { Diagnose } from '../airflow/diagnosis.js';
import { buildDoctorContext } from './context.js';
import { examine } from './index.js';
import { VERDICT_ID } from './verdict.js';

export const diagnose: Diagnose = async (req) => {
  const dctx = await buildDoctorContext(req.dir, req.env ?? process.env, {
    airflow: req.airflow,
    probe: req.probe,
  });
  const judged = await examine(dctx);
  const verdict = judged.results.find((r) => r.id === VERDICT_ID);
  if (!judged.failed || !verdict) return null;
  return { why: verdict.detail, fix: verdict.fix, explainedBy: verdict.explainedBy };
};
