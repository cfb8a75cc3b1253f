/**
 * Known disagreements of the CI corpus (suite.ts), by set-up name: each dimension on which doctor
 * still disagrees with Airflow or the known cause, with what was seen (the last run's words;
 * /work/coord/corpus-findings.md keeps the details for the doctor side). CI records a listed
 * dimension instead of failing on it (and says when it agrees now: drop it here); an unlisted one
 * must agree. README's rates count every entry here against doctor.
 *
 * exit: doctor with Airflow exits otherwise than Airflow decides; link: it names another link than
 * the known cause; fix: its fixes, followed, leave Airflow failing; without: doctor without Airflow
 * decides otherwise than Airflow; undecided: doctor without Airflow leaves the verdict to Airflow
 * (not a disagreement: pinned so the README's share of verdicts is the test's); trace: Airflow's
 * verdict changed after doctor ran.
 */
export type Dimension = 'exit' | 'link' | 'fix' | 'without' | 'undecided' | 'trace';

export const KNOWN = new Map<string, Partial<Record<Dimension, string>>>([
  [
    '[2] made by hand, token, fields: connections-path-leading-slash + policy-deny',
    {
      fix: 'the fix could not be followed: exit 127: bash: line 1: vault: command not found; followed: { vault policy read reader-3 2>/dev/null; printf \'\\npath "secret/data//connections/*" {\\n capabilities = ["r…',
    },
  ],
  ['[3] a token limited to 6 uses', { undecided: 'without Airflow doctor says Airflow would decide' }],
  [
    '[3] a policy written for secret/connections/* (no data/ on KV v2)',
    {
      fix: 'the fix could not be followed: exit 127: bash: line 1: vault: command not found; followed: { vault policy read reader-1025 2>/dev/null; printf \'\\npath "secret/data/connections/*" {\\n capabilities = […',
    },
  ],
  [
    '[3] a URI with an unescaped / in the password',
    {
      fix: 'the fix could not be followed: exit 127: File "<string>", line 1, in <module> ValueError: not enough values to unpack (expected 2, got 1); followed: vault kv get -field=conn_uri -mount=secret connect…',
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] an unescaped % in the kwargs in airflow.cfg',
    {
      link: "doctor names kwargs: Airflow fails at start-up (import airflow.configuration): InterpolationSyntaxError: '%' must be followed by '%' or '(',…",
    },
  ],
]);
