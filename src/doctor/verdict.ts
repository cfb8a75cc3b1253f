/**
 * Doctor's verdict. With Airflow asked, Airflow's own (the probe): doctor fails exactly when Airflow
 * cannot resolve an id, or resolves a seeded id with other values than were seeded; the link its
 * failure points at (cause.ts) picks the check that explains it and lends its fix. Without Airflow,
 * the emulation: it fails only on what a check proved, passes only when every check its verdict
 * needs passed, and otherwise leaves the verdict to Airflow ("Airflow would decide this").
 */
import {
  answeredBy,
  backendLabel,
  describeException,
  type IdVerdict,
  type ProbeReport,
  taskSideMisses,
} from '../airflow/probe.js';
import { airflowCause } from './cause.js';
import { askAirflowCommand } from './fixes.js';
import {
  type Check,
  type CheckId,
  type CheckResult,
  defineCheck,
  type DoctorContext,
  fail,
  LINKS,
  ok,
  skip,
  type VerdictKind,
  warn,
} from './types.js';

export const VERDICT_ID = 'airflow-verdict';

/**
 * What matters for a miss: what Vault's backend raised, or that it returned nothing; another
 * backend's error only when Vault is not in the chain (a metastore without its tables is what a
 * CLI run with a fresh AIRFLOW_HOME always meets).
 */
function missReason(v: IdVerdict): string {
  const vault = v.backends.find((b) => b.name === 'VaultBackend' && !b.alone);
  if (vault?.error) return `VaultBackend raised ${describeException(vault.error)}`;
  if (vault) return 'VaultBackend returned nothing for it';
  const broken = v.backends.find((b) => b.error && b.name !== 'MetastoreBackend') ?? v.backends.find((b) => b.error);
  if (broken) return `${broken.name} raised ${describeException(broken.error)}`;
  const said = v.logs
    .filter((l) => l.level === 'WARNING' || l.level === 'ERROR')
    .map((l) => l.message)
    .slice(-1)[0];
  return said ? `no backend holds it; Airflow logged: ${said}` : 'no backend holds it';
}

function perId(
  kind: 'connection' | 'variable',
  id: string,
  v: IdVerdict,
): { line: string; shadow?: string; vaultFailed?: boolean } {
  const { answer, alsoHeldBy } = answeredBy(v);
  if (!v.found || !answer) return { line: `${kind} ${id}: not resolved (${missReason(v)})` };
  const from = backendLabel(answer);
  const also = alsoHeldBy.length
    ? `; also held by ${alsoHeldBy.map(backendLabel).join(', ')}, which ${alsoHeldBy.length > 1 ? 'lose' : 'loses'} (Airflow asks ${[answer, ...alsoHeldBy].map(backendLabel).join(' before ')})`
    : '';
  const line = `${kind} ${id}: resolved from ${from}${also}`;
  const vault = v.backends.find((b) => b.name === 'VaultBackend');
  if (vault && answer !== 'VaultBackend') {
    const why = vault.error ? `Vault raised ${describeException(vault.error)}` : 'Vault does not hold it';
    return { line, shadow: `${kind} ${id} comes from ${from}, not from Vault (${why})`, vaultFailed: !!vault.error };
  }
  return { line };
}

export function summarise(
  p: ProbeReport,
  airflowVersion: string,
): { ok: boolean; detail: string; details: string[]; shadows: string[]; missing: string[] } {
  const details: string[] = [];
  const shadows: string[] = [];
  const missing: string[] = [];
  const vaultFailed: string[] = [];
  for (const [kind, map] of [
    ['connection', p.connections],
    ['variable', p.variables],
  ] as const) {
    for (const [id, v] of Object.entries(map)) {
      const r = perId(kind, id, v);
      details.push(r.line);
      if (r.shadow) shadows.push(r.shadow);
      if (r.vaultFailed && r.shadow) vaultFailed.push(r.shadow);
      if (!v.found) missing.push(`${kind} ${id}`);
    }
  }
  for (const l of p.listing ?? [])
    if (l.error) details.push(`listing ${l.kind} under '${l.path}' failed: ${describeException(l.error)}`);
  const total = Object.keys(p.connections).length + Object.keys(p.variables).length;
  const chain = p.backends.map((b) => b.name).join(' -> ');
  const head = `Airflow ${airflowVersion} (${chain})`;
  if (missing.length) {
    const first = [...Object.values(p.connections), ...Object.values(p.variables)].find((v) => !v.found);
    const said = first ? `; Airflow's own error: ${missReason(first)}` : '';
    return { ok: false, detail: `${head} cannot resolve ${missing.join(', ')}${said}`, details, shadows, missing };
  }
  // Vault's backend failed and a later one answered: what answers is not what the sandbox is for
  // (an old AIRFLOW_CONN_, a metastore row), and the next change to it breaks the lookup.
  if (vaultFailed.length)
    return {
      ok: false,
      detail: `${head} resolves all ${total}, but its Vault backend failed: ${vaultFailed.join('; ')}`,
      details,
      shadows,
      missing,
    };
  return {
    ok: true,
    detail: `${head} resolves all ${total}${shadows.length ? `, but ${shadows.join('; ')}` : ''}`,
    details,
    shadows,
    missing,
  };
}

export const airflowVerdict = defineCheck({
  id: VERDICT_ID,
  title: "Airflow's verdict",
  link: 'airflow',
  async run(ctx) {
    const a = ctx.airflow;
    if (!a) return skip('no Airflow found: the checks below decide what Vault and the files prove');
    if (a.major === '1.10')
      return skip(`Airflow ${a.version}: the probe needs Airflow 2 or 3; the checks below emulate it`);
    if (ctx.notAsked) return skip(`Airflow ${a.version} was not asked: ${ctx.notAsked}`);
    if (ctx.probe === undefined) return skip('Airflow was not asked');
    if (ctx.probe === null)
      return fail(
        `Airflow could not be asked: ${ctx.probeError ?? 'no answer'}`,
        `${a.bin} connections list  # with the same environment, shows why`,
      );
    const p = ctx.probe;
    if (p.init_error) {
      const what =
        p.init_error.stage === 'import'
          ? 'Airflow fails at start-up (import airflow.configuration)'
          : 'Airflow cannot build its secrets backends';
      return fail(`${what}: ${describeException(p.init_error.chain)}; every connection and variable lookup fails`);
    }
    const total = Object.keys(p.connections).length + Object.keys(p.variables).length;
    const unlisted = (p.listing ?? []).find((l) => l.error);
    // No ids were known and Airflow's backend could not even list where it looks: it can read nothing there.
    if (!total && unlisted)
      return fail(
        `Airflow's VaultBackend cannot list ${unlisted.kind} under '${unlisted.path}' to find the ids to ask about: ${describeException(unlisted.error)}`,
        undefined,
        summarise(p, a.version).details,
      );
    const seeded = [...(ctx.sandbox?.seeded?.connections ?? []), ...(ctx.sandbox?.seeded?.variables ?? [])];
    // The sandbox wrote these ids to Vault: Airflow finding nothing where it looks is the failure.
    if (!total && seeded.length)
      return fail(
        `Airflow lists nothing where VaultBackend looks, but the sandbox seeded ${seeded.join(', ')}`,
        undefined,
        summarise(p, a.version).details,
      );
    if (!total)
      return warn(
        `nothing to ask Airflow about: no connections or variables in ${ctx.sandbox?.config.label ?? 'a sandbox config'} or seeded, and none listed where VaultBackend looks`,
        undefined,
        summarise(p, a.version).details,
      );
    const s = summarise(p, a.version);
    const timing = `asked in one process, ${p.wallSeconds.toFixed(1)} s`;
    if (!s.ok) return fail(`${s.detail} (${timing})`, undefined, s.details);
    // Airflow 3: what the server side resolves, a task may not (its own first backend comes from [workers]).
    const tasks = a.major === '3' ? taskSideMisses(p) : [];
    if (tasks.length)
      return fail(
        `${s.detail}, but a task's own first backend ([workers] secrets_backend) does not resolve ${tasks.join(', ')} (${timing})`,
        undefined,
        s.details,
      );
    if (s.shadows.length) return warn(`${s.detail} (${timing})`, undefined, s.details);
    return ok(`${s.detail} (${timing})`, s.details);
  },
});

/** The chain checks, in the order Airflow walks the links; a later link can only matter if earlier ones hold. */
function linkRank(r: CheckResult): number {
  return r.link ? LINKS.indexOf(r.link) : LINKS.length;
}

const broken = (r: CheckResult) => r.status === 'fail' || r.status === 'crash';

/** Suspects (kwargs Airflow drops, say) become the broken link once something after them breaks. */
function convictSuspects(results: CheckResult[]): CheckResult[] {
  return results.map((r) =>
    r.suspect && r.status === 'warn'
      ? { ...r, status: 'fail', detail: `${r.detail}; with them, what follows breaks` }
      : r,
  );
}

/** The check that explains a failure: among those failing, the one of the link Airflow points at, else the first in Airflow's order. */
function explainer(results: CheckResult[], cause: readonly string[]): CheckResult | undefined {
  const failing = results
    .filter((r) => r.id !== VERDICT_ID && broken(r) && r.link && r.link !== 'setup' && r.link !== 'airflow')
    .sort((a, b) => linkRank(a) - linkRank(b));
  // A suspect explains what breaks after it, never a link Airflow walks before it.
  const suspect = failing.find((r) => r.suspect);
  if (suspect && !failing.some((r) => !r.suspect && linkRank(r) < linkRank(suspect))) return suspect;
  for (const link of cause) {
    const hit = failing.find((r) => r.link === link);
    if (hit) return hit;
  }
  return failing[0];
}

export interface Judged {
  results: CheckResult[];
  verdict: VerdictKind;
  /** false: doctor without Airflow could not prove either way, and leaves the verdict to Airflow. */
  decided: boolean;
  /** The set-up fails (Airflow's verdict, or what the emulation proved). */
  failed: boolean;
}

/** Airflow's verdict made doctor's: a seeded value Airflow resolves wrong fails it too; the checks explain it. */
function judgeByAirflow(results: CheckResult[], ctx: Pick<DoctorContext, 'probe'>): Judged {
  const values = results.find((r) => r.id === 'values');
  let out = results.map((r) =>
    r.id === VERDICT_ID && (r.status === 'ok' || r.status === 'warn') && values?.status === 'fail'
      ? {
          ...r,
          status: 'fail' as const,
          detail: `${r.detail}, but not as meant: ${values.detail}`,
          ...(values.fix ? { fix: values.fix } : {}),
          explainedBy: 'values' as CheckId,
        }
      : r,
  );
  const verdict = out.find((r) => r.id === VERDICT_ID);
  if (!verdict) return { results: out, verdict: 'airflow', decided: true, failed: false };
  if (verdict.status !== 'fail') {
    out = out.map((r) =>
      r.status === 'fail' && r.id !== VERDICT_ID
        ? {
            ...r,
            status: 'warn',
            detail: `${r.detail} (Airflow resolves every id anyway, so this does not stop a lookup)`,
          }
        : r,
    );
    return { results: out, verdict: 'airflow', decided: true, failed: false };
  }
  if (verdict.explainedBy) return { results: out, verdict: 'airflow', decided: true, failed: true };
  out = convictSuspects(out);
  const cause = ctx.probe ? airflowCause(ctx.probe) : [];
  const by = explainer(out, cause);
  out = out.map((r) => {
    if (r.id !== VERDICT_ID) return r;
    if (by)
      return {
        ...r,
        detail: `${r.detail}. First broken link: ${by.link} (${by.title}): ${by.detail}`,
        ...(by.fix ? { fix: by.fix } : {}),
        explainedBy: by.id,
      };
    return {
      ...r,
      detail: `${r.detail}. No check explains this; the error above is Airflow's own (doctor -v shows each backend's answer)`,
    };
  });
  return { results: out, verdict: 'airflow', decided: true, failed: true };
}

/** Without Airflow: fail on what a check proved, pass when every check the verdict needs passed, else undecided. */
function judgeByEmulation(
  results: CheckResult[],
  checks: readonly Check[],
  ctx: Pick<DoctorContext, 'sandbox' | 'intendedAirflow'>,
): Judged {
  const counts = new Set(checks.filter((c) => c.verdict).map((c) => c.id));
  const relevant = results.filter((r) => counts.has(r.id));
  const proven = relevant.some((r) => r.status === 'fail');
  if (proven) return { results: convictSuspects(results), verdict: 'emulation', decided: true, failed: true };
  const open = relevant.filter((r) => r.status === 'skip' || r.status === 'crash');
  if (!open.length) return { results, verdict: 'emulation', decided: true, failed: false };
  const note: CheckResult = {
    id: VERDICT_ID,
    title: "Airflow's verdict",
    status: 'skip',
    link: 'airflow',
    detail: `Airflow would decide this: nothing doctor can prove without it is broken, but ${open.map((r) => r.title).join(', ')} could not be settled without Airflow`,
    fix: askAirflowCommand(ctx),
  };
  return {
    results: results.map((r) => (r.id === VERDICT_ID ? note : r)),
    verdict: 'emulation',
    decided: false,
    failed: false,
  };
}

export function judge(
  results: CheckResult[],
  checks: readonly Check[],
  ctx: Pick<DoctorContext, 'probe' | 'sandbox' | 'intendedAirflow'>,
): Judged {
  const verdict = results.find((r) => r.id === VERDICT_ID);
  if (verdict && verdict.status !== 'skip') return judgeByAirflow(results, ctx);
  return judgeByEmulation(results, checks, ctx);
}
