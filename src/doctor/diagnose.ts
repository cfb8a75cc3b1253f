/**
 * doctor's answer to a step that saw Airflow miss (src/airflow/diagnosis.ts): its checks, run on
 * Airflow's answer (or Airflow asked afresh, about the ids the step looked up), and the verdict.
 */
import type { Diagnose } from '../airflow/diagnosis.js';
import { buildDoctorContext } from './context.js';
import { CHECKS, runChecks } from './index.js';
import { VERDICT_ID } from './verdict.js';

export const diagnose: Diagnose = async (req) => {
  const dctx = await buildDoctorContext(req.dir, req.env ?? process.env, {
    airflow: req.airflow,
    probe: req.probe,
    ids: req.ids,
  });
  const results = await runChecks(dctx, CHECKS);
  const verdict = results.find((r) => r.id === VERDICT_ID);
  if (!verdict || verdict.status === 'ok' || verdict.status === 'skip') return null;
  return { why: verdict.detail, fix: verdict.fix, explainedBy: verdict.explainedBy };
};
