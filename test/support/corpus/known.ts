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
    '[2] made by the tool, token, path conns, extra, written for Airflow 3: uri-raw-hash',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by hand, token, TLS, escaped password: per-key-url + kwargs-in-cfg',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by the tool, token, mount kv: token-limited-uses',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by the tool, token, fields, path airflow/connections: class-in-cfg + kwargs-python-repr',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by the tool, token, TLS, path conns, +variable: token-cmd-subst + tls-verify-false',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by the tool, approle, TLS, path conns, escaped password: uri-raw-percent',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by hand, reader token, mount kv, path airflow/connections, +variable: uri-vector + per-key-mount + connections-path-wrong',
    {
      fix: 'no fix printed (); followed: "in <dir>/.env, AIRFLOW__SECRETS__BACKEND_KWARGS: set \\"connections_path\\": \\"airflow/connections\\""',
    },
  ],
  [
    '[3] made by the tool, approle, TLS, path conns: uri-raw-slash',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by the tool, token, fields, mount airflow, escaped password: kwargs-in-cfg + token-limited-uses',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by hand, userpass, fields, mount airflow, namespace, +variable, escaped password: hvac-timeout + per-key-mount',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by hand, userpass, KV v1, mount airflow, escaped password, extra: env-bare + secret-missing',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by the tool, token, fields, path conns, escaped password: connections-path-list + doctor-sourced-shell + kwargs-in-cfg + kwargs-trailing-comma',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by the tool, approle, fields, TLS, +variable, escaped password: class-contrib + secret-version-deleted',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by the tool, token, TLS, mount kv, path airflow/connections, extra: tls-verify-false + kwargs-in-cfg',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by the tool, token, TLS, mount kv, path conns, +variable: tls-cacert-env + proxy-bypassed + mount-trailing-slash + uri-refused',
    {
      link: 'doctor names address/TLS/proxy, known cause secret shape (uri-refused)',
    },
  ],
  [
    '[3] made by the tool, token, +variable, escaped password: token-env + stale-conn-env + class-in-shell + uri-raw-slash',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by the tool, approle, +variable, escaped password: secret-version-deleted',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] a URI with an unescaped / in the password',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] a URI with an unescaped / in the password',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] a URI Airflow refuses (a bad port)',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] conn_uri with a raw # in the password (host and port taken from the login)',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] conn_uri with a raw # in the password (host and port taken from the login)',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] an __extra__ that is not JSON',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] an __extra__ that is not JSON',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] per-key token on Airflow 2.11 with no VAULT_TOKEN to fall back to',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] a token limited to 6 uses',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] the mount repeated in connections_path',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] no namespace in the kwargs while the secrets live in one',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] a raw # in a password in secrets-sandbox.yaml (seeded as written)',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] a raw # in a password in secrets-sandbox.yaml (seeded as written)',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] a raw %41 in a password in secrets-sandbox.yaml (Airflow decodes it)',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] a raw / in a password in secrets-sandbox.yaml while an old AIRFLOW_CONN_ answers',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] the connection deleted from a hand-made set-up (userpass, KV v1)',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET in a sandbox the tool made',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
]);
