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
  ['[3] a URI with an unescaped / in the password', { undecided: 'without Airflow doctor says Airflow would decide' }],
  [
    '[3] an unescaped % in the kwargs in airflow.cfg',
    {
      link: "doctor names kwargs: Airflow fails at start-up (import airflow.configuration): InterpolationSyntaxError: '%' must be followed by '%' or '(',…",
      fix: "no fix printed (Airflow fails at start-up (import airflow.configuration): InterpolationSyntaxError: '%' must be followed by '%' or '(', found: '%2Fconnections\",\"connections\"],\"); followed: nothing",
    },
  ],
  [
    "[3] no token in the sandbox's files and yesterday's VAULT_TOKEN in the shell",
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1092; Airflow's own error: VaultBackend raised VaultE); followed: nothing",
    },
  ],
  [
    '[2] made by hand, token, fields: connections-path-leading-slash + policy-deny',
    {
      fix: 'the same fix printed again: it did not work; followed: { bao policy read -address=http://127.0.0.1:34160 reader-3 2>/dev/null; printf \'\\npath "secret/data//connections/*" {\\n capabilities = ["read"]\\…',
    },
  ],
  [
    '[2] userpass with a wrong password',
    {
      fix: "no fix printed (Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1058; Airflow's own error: VaultBackend raised Inval); followed: nothing",
    },
  ],
  ['[3] a token limited to 6 uses', { undecided: 'without Airflow doctor says Airflow would decide' }],
]);
