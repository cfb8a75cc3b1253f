/**
 * What a step may ask doctor when Airflow misses: why, and the fix, from doctor's checks. The
 * command that runs the steps hands them an implementation (doctor's); steps never import doctor,
 * and doctor never imports steps: both know only this shape.
 */
import type { AirflowInstall } from './runner.js';
import type { ProbeReport } from './probe.js';

export interface DiagnoseRequest {
  /** The sandbox dir. */
  dir: string;
  airflow: AirflowInstall;
  /** Airflow's answer already in hand; without it doctor asks Airflow itself (what holds now). */
  probe?: ProbeReport;
  /** The environment Airflow ran with (the user's, with the sandbox .env on top). */
  env?: NodeJS.ProcessEnv;
  /** The ids that were looked up (the sandbox's seeded set); otherwise those the config names. */
  ids?: { connections: string[]; variables: string[] };
}

export interface Diagnosis {
  /** doctor's verdict: the first broken link in Airflow's order, or Airflow's own error. */
  why: string;
  fix?: string;
  /** The doctor check whose failure explains it, when one does. */
  explainedBy?: string;
}

/** Resolves null when doctor's verdict is that Airflow resolves every id (the cause is not one doctor knows). */
export type Diagnose = (req: DiagnoseRequest) => Promise<Diagnosis | null>;
