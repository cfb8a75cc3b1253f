/**
 * What doctor said, read from `doctor --json` in one place (so the corpus follows doctor's output
 * format from here alone): its exit code, whether it decided (without Airflow, doctor may say
 * "Airflow would decide this" instead of guessing), the link its explanation names, and its first fix.
 */
import type { Link } from '../../../src/doctor/types.js';
import type { Run } from '../sandbox.js';

interface DoctorJson {
  ok: boolean;
  verdict: string;
  /** false when doctor without Airflow leaves the verdict to Airflow. */
  decided?: boolean;
  /** Why doctor did not ask Airflow although it is on PATH (a token limited in uses). */
  notAsked?: string;
  checks: { id: string; status: string; detail: string; fix?: string; link?: Link; explainedBy?: string }[];
}

export interface DoctorSays {
  code: number;
  verdict: string;
  decided: boolean;
  notAsked?: string;
  /** The link of the check that explains Airflow's verdict (with Airflow), or of the first failing check. */
  link?: Link;
  /** The first fix: the verdict's (with Airflow), else the first failing check's. */
  fix?: string;
  detail: string;
  failing: string[];
  /** doctor printed no JSON (it crashed): its stderr. */
  crashed?: string;
}

export function doctorSays(r: Run): DoctorSays {
  let d: DoctorJson;
  try {
    d = JSON.parse(r.stdout) as DoctorJson;
  } catch {
    return { code: r.code, verdict: 'none', decided: true, detail: '', failing: [], crashed: r.stderr.slice(-600) };
  }
  const failing = d.checks.filter((c) => c.status === 'fail' || c.status === 'crash');
  const verdict = d.checks.find((c) => c.id === 'airflow-verdict');
  const explaining = verdict?.explainedBy ? d.checks.find((c) => c.id === verdict.explainedBy) : undefined;
  const first = verdict?.status === 'fail' ? (explaining ?? verdict) : failing[0];
  return {
    code: r.code,
    verdict: d.verdict,
    decided: d.decided ?? true,
    notAsked: d.notAsked,
    link: verdict ? explaining?.link : first?.link,
    fix: verdict?.status === 'fail' ? (verdict.fix ?? explaining?.fix) : first?.fix,
    detail: (verdict?.status === 'fail' ? verdict.detail : first?.detail) ?? '',
    failing: failing.map((c) => c.id),
  };
}
