/**
 * The corpus's rates, from its rows: exit-code agreement with Airflow (doctor with Airflow on PATH),
 * the named link equal to the known cause, the fix applied then Airflow resolving, and, without
 * Airflow, agreement where doctor decides and how often it decides. Also the generator's own
 * agreement with Airflow: a set-up Airflow judges otherwise than its known cause says is the
 * corpus's bug, not doctor's.
 */
import type { Row } from './runner.js';

export interface Rates {
  setUps: number;
  built: number;
  broken: number;
  generatorAgrees: number;
  agreeWith: number;
  linked: number;
  fixed: number;
  decided: number;
  agreeDecided: number;
  /** Set-ups whose Airflow verdict changed after doctor ran. */
  changedByDoctor: number;
}

/** Set-ups Airflow and the generator both call broken: the ones the link and fix rates are over. */
export const brokenRows = (rows: Row[]): Row[] => rows.filter((r) => !r.error && !r.airflow.ok && r.spec.cause);

export function rates(rows: Row[]): Rates {
  const built = rows.filter((r) => !r.error);
  const broken = brokenRows(rows);
  const decided = built.filter((r) => r.without.decided);
  return {
    setUps: rows.length,
    built: built.length,
    broken: broken.length,
    generatorAgrees: built.filter((r) => r.airflow.ok === !r.spec.cause).length,
    agreeWith: built.filter((r) => !r.withAirflow.decided || (r.withAirflow.code === 0) === r.airflow.ok).length,
    linked: broken.filter((r) => r.withAirflow.link === r.spec.cause?.link).length,
    fixed: broken.filter((r) => r.fix?.resolved).length,
    decided: decided.length,
    agreeDecided: decided.filter((r) => (r.without.code === 0) === r.airflow.ok).length,
    changedByDoctor: built.filter((r) => r.after && r.after.ok !== r.airflow.ok).length,
  };
}

const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : 'n/a');

export function ratesLine(r: Rates): string {
  return [
    `${r.setUps} set-ups (${r.broken} broken)`,
    `exit code agrees with Airflow ${r.agreeWith}/${r.built} (${pct(r.agreeWith, r.built)})`,
    `link = known cause ${r.linked}/${r.broken} (${pct(r.linked, r.broken)})`,
    `fix applied then Airflow resolves ${r.fixed}/${r.broken} (${pct(r.fixed, r.broken)})`,
    `without Airflow: decides ${r.decided}/${r.built} (${pct(r.decided, r.built)}), agrees where it decides ${r.agreeDecided}/${r.decided}`,
    `generator agrees with Airflow ${r.generatorAgrees}/${r.built}`,
    ...(r.changedByDoctor ? [`doctor changed Airflow's verdict on ${r.changedByDoctor}`] : []),
    ...(r.built < r.setUps ? [`${r.setUps - r.built} could not be built`] : []),
  ].join('; ');
}

const expected = (r: Row): string => (r.spec.cause ? `broken by ${r.spec.cause.op} (${r.spec.cause.link})` : 'works');

/** One line per disagreement of any kind, naming the set-up so it can be run alone and kept. */
export function disagreements(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const id = `#${r.spec.n} ${r.spec.name}`;
    if (r.error) {
      out.push(`${id}: could not be built: ${r.error}`);
      continue;
    }
    const airflow = r.airflow.ok ? 'Airflow resolves' : `Airflow fails (${r.airflow.said})`;
    if (r.withAirflow.verdict !== 'airflow' && !r.withAirflow.notAsked)
      out.push(`${id}: HARNESS doctor with Airflow on PATH gave a ${r.withAirflow.verdict} verdict`);
    if (r.airflow.ok !== !r.spec.cause) out.push(`${id}: GENERATOR expected ${expected(r)}; ${airflow}`);
    if (r.withAirflow.decided && (r.withAirflow.code === 0) !== r.airflow.ok)
      out.push(
        `${id}: EXIT with Airflow: ${airflow}; doctor exit ${r.withAirflow.code}${r.withAirflow.crashed ? ` (crashed: ${r.withAirflow.crashed})` : ''} ${r.withAirflow.detail.slice(0, 200)}`,
      );
    if (!r.airflow.ok && r.spec.cause && r.withAirflow.link !== r.spec.cause.link)
      out.push(
        `${id}: LINK doctor names ${r.withAirflow.link ?? 'no link'}, known cause ${r.spec.cause.link} (${r.spec.cause.op}): ${r.withAirflow.detail.slice(0, 200)}`,
      );
    if (!r.airflow.ok && r.spec.cause && !r.fix?.resolved)
      out.push(
        `${id}: FIX ${r.fix?.why ?? 'not followed'}; followed: ${(r.fix?.steps ?? []).map((s) => JSON.stringify(s.fix)).join(', ') || 'nothing'}`,
      );
    if (r.without.decided && (r.without.code === 0) !== r.airflow.ok)
      out.push(
        `${id}: WITHOUT Airflow: ${airflow}; doctor exit ${r.without.code} (${r.without.failing.join(', ') || 'no failing check'})`,
      );
    if (r.after && r.after.ok !== r.airflow.ok)
      out.push(`${id}: TRACE Airflow after doctor: ${r.after.said || 'resolves'}`);
  }
  return out;
}
