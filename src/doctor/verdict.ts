/**
 * Airflow's own verdict (the probe), and the rule that makes it doctor's verdict: with an Airflow
 * found, doctor fails exactly when Airflow cannot resolve an id; the other checks explain why
 * (the first broken link in Airflow's order), and when none does, doctor says so and shows
 * Airflow's own error rather than a guess.
 */
import { answeredBy, backendLabel, describeException, type IdVerdict, type ProbeReport } from '../airflow/probe.js';
import { type Check, type CheckInput, type CheckResult, LINKS, fail, ok, skip, warn } from './types.js';

export const VERDICT_ID = 'airflow-verdict';

/** The backend error that matters for a miss: the custom backend's (Vault), else any. */
function missReason(v: IdVerdict): string {
  const broken = v.backends.find((b) => b.error && b.name !== 'MetastoreBackend') ?? v.backends.find((b) => b.error);
  if (broken) return `${broken.name} raised ${describeException(broken.error)}`;
  const said = v.logs
    .filter((l) => l.level === 'WARNING' || l.level === 'ERROR')
    .map((l) => l.message)
    .slice(-1)[0];
  return said ? `no backend holds it; Airflow logged: ${said}` : 'no backend holds it';
}

function perId(kind: 'connection' | 'variable', id: string, v: IdVerdict): { line: string; shadow?: string } {
  const { answer, alsoHeldBy } = answeredBy(v);
  if (!v.found) return { line: `${kind} ${id}: not resolved (${missReason(v)})` };
  const from = answer ? backendLabel(answer) : 'a backend';
  const line = `${kind} ${id}: resolved from ${from}${alsoHeldBy.length ? `; also held by ${alsoHeldBy.map(backendLabel).join(', ')}, which ${alsoHeldBy.length > 1 ? 'lose' : 'loses'} (Airflow asks ${[answer!, ...alsoHeldBy].map(backendLabel).join(' before ')})` : ''}`;
  const vaultConfigured = v.backends.some((b) => b.name === 'VaultBackend');
  if (vaultConfigured && answer && answer !== 'VaultBackend') {
    const vault = v.backends.find((b) => b.name === 'VaultBackend');
    const why = vault?.error ? `Vault raised ${describeException(vault.error)}` : 'Vault does not hold it';
    return { line, shadow: `${kind} ${id} comes from ${from}, not from Vault (${why})` };
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
  for (const [kind, map] of [
    ['connection', p.connections],
    ['variable', p.variables],
  ] as const) {
    for (const [id, v] of Object.entries(map)) {
      const r = perId(kind, id, v);
      details.push(r.line);
      if (r.shadow) shadows.push(r.shadow);
      if (!v.found) missing.push(`${kind} ${id}`);
    }
  }
  for (const l of p.listing ?? [])
    if (l.error) details.push(`listing ${l.kind} under '${l.path}' failed: ${describeException(l.error)}`);
  const total = Object.keys(p.connections).length + Object.keys(p.variables).length;
  const chain = p.backends.map((b) => b.name).join(' -> ');
  const head = `Airflow ${airflowVersion} (${chain})`;
  if (missing.length) {
    const first = [...Object.entries(p.connections), ...Object.entries(p.variables)].find(([, v]) => !v.found)?.[1];
    const said = first ? `; Airflow's own error: ${missReason(first)}` : '';
    return { ok: false, detail: `${head} cannot resolve ${missing.join(', ')}${said}`, details, shadows, missing };
  }
  return {
    ok: true,
    detail: `${head} resolves all ${total}${shadows.length ? `, but ${shadows.join('; ')}` : ''}`,
    details,
    shadows,
    missing,
  };
}

export const airflowVerdict: Check = {
  id: VERDICT_ID,
  title: "Airflow's verdict",
  link: 'airflow',
  async run(ctx: CheckInput) {
    const a = ctx.airflow;
    if (!a)
      return skip("no Airflow found: the checks below emulate Airflow (their verdict is an emulation, not Airflow's)");
    if (a.major === '1.10')
      return skip(`Airflow ${a.version}: the probe needs Airflow 2 or 3; the checks below emulate it`);
    if (ctx.probe === undefined) return skip('Airflow was not asked');
    if (ctx.probe === null)
      return fail(
        `Airflow could not be asked: ${ctx.probeError ?? 'no answer'}`,
        `run ${a.bin} connections list with the same environment to see why`,
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
    if (s.shadows.length) return warn(`${s.detail} (${timing})`, undefined, s.details);
    return ok(`${s.detail} (${timing})`, s.details);
  },
};

/** The chain checks, in the order Airflow walks the links; a later link can only matter if earlier ones hold. */
function linkRank(r: CheckResult): number {
  return r.link ? LINKS.indexOf(r.link) : LINKS.length;
}

/**
 * Makes Airflow's verdict doctor's verdict. When Airflow resolves everything, a failed emulation
 * check is only a warning (Airflow disagrees with it, and Airflow is right about Airflow). When
 * Airflow fails, the first failed check in Airflow's order explains it and lends its fix.
 */
export function judge(results: CheckResult[]): CheckResult[] {
  const verdict = results.find((r) => r.id === VERDICT_ID);
  if (!verdict || verdict.status === 'skip') return results;
  if (verdict.status === 'ok' || verdict.status === 'warn') {
    return results.map((r) =>
      r.status === 'fail' && r.id !== VERDICT_ID
        ? {
            ...r,
            status: 'warn',
            detail: `${r.detail} (Airflow resolves every id anyway, so this does not stop a lookup)`,
          }
        : r,
    );
  }
  const explaining = results
    .filter((r) => r.id !== VERDICT_ID && (r.status === 'fail' || r.status === 'crash') && r.link && r.link !== 'setup')
    .sort((a, b) => linkRank(a) - linkRank(b))[0];
  const out = results.map((r) => {
    if (r !== verdict) return r;
    if (explaining) {
      return {
        ...r,
        detail: `${r.detail}. First broken link: ${explaining.link} (${explaining.title}): ${explaining.detail}`,
        fix: explaining.fix ?? r.fix,
        explainedBy: explaining.id,
      };
    }
    return {
      ...r,
      detail: `${r.detail}. No check explains this; the error above is Airflow's own`,
      fix: r.fix ?? "create-secrets-sandbox doctor -v shows every backend's answer and log",
    };
  });
  return out;
}
