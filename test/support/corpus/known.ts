/**
 * Known disagreements of the CI corpus (suite.ts), by set-up name: each dimension that still
 * disagrees, with the finding it waits for (/work/coord/corpus-findings.md keeps the details for the
 * doctor side). A listed dimension must still disagree (the test says when it stops: drop it here);
 * an unlisted one must agree. test/unit/corpus-generator.test.ts holds the list to the rates of
 * issue 20 (link >= 95%, fix >= 90% of broken set-ups, exit code 100%).
 */
/**
 * exit: doctor with Airflow exits otherwise than Airflow decides; link: it names another link than
 * the known cause; fix: its fixes, followed, leave Airflow failing; without: doctor without Airflow
 * decides otherwise than Airflow; undecided: doctor without Airflow leaves the verdict to Airflow
 * (not a disagreement: pinned so the README's share of verdicts is the test's); trace: Airflow's
 * verdict changed after doctor ran.
 */
export type Dimension = 'exit' | 'link' | 'fix' | 'without' | 'undecided' | 'trace';

/** What each known disagreement waits for, by finding. */
export const FINDINGS: Record<string, string> = {
  F1: 'a fix with words after the command (an explanation in parentheses, "makes a new secret_id ...") is not runnable as printed; the explanation belongs after "  # "',
  F2: 'prose instead of a fix ("store conn_uri=<uri>, or ...", "point verify at ...", "vault secrets enable ..., or fix mount_point"): print the exact command or key edit, with the server binary doctor found',
  F3: 'no check explains the failure (a raw / in a URI, a refused URI, a wrong userpass password, a null variable, a missing secret, a policy for another path, a dead proxies kwarg): the verdict falls back to "doctor -v", which is not a fix',
  F4: 'a wrong value Airflow resolves passes (a raw # or %41 in a URI password, Vault holding another password than seeded, a stale AIRFLOW_CONN_/AIRFLOW_VAR_ answering after Vault failed): compare seeded ids field by field, flag URI traps',
  F5: 'the .env is read by its own parser, not sourced by bash ($(cat file), a braced shell variable, $VAR that Airflow expands, CRLF): working set-ups fail, a CRLF .env passes',
  F6: 'a per-key AIRFLOW__SECRETS__BACKEND_KWARG__* is blamed on the JSON kwargs (the same edit printed again while the per-key variable wins), and on Airflow 2.11 it is ignored',
  F7: 'a failure at Airflow start-up (a raw % in airflow.cfg, the kwargs from _SECRET) is blamed on a later link',
  F8: 'a 403 on a path the policy does not cover is read as the policy (with a least-privilege token a wrong path, mount or KV version answers 403), and a policy fix that leaves a deny in place is printed again',
  F9: '`up` printed where it fails or is refused (a kwargs url on the wrong port, an edited .env the tool keeps, a proxies kwarg)',
  F10: 'a stopped TLS sandbox is blamed on its CA file',
  F11: 'the emulation decides what only Airflow can (fails working set-ups: a list of paths, global_secrets_path, %% in airflow.cfg, a metastore row, kwargs Airflow drops; passes broken ones): it should say "Airflow would decide"',
  F12: "doctor spends a limited token's uses: after it ran, Airflow cannot read",
};

export const KNOWN = new Map<string, Partial<Record<Dimension, string>>>([
  [
    '[3] made by the tool, token: global-secrets-path + proxies-kwarg-dead',
    { link: 'F3: no check explains it', fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[2] made by hand, token, fields: connections-path-leading-slash + policy-deny',
    { fix: 'F8: a policy fix that does not change what Vault answers' },
  ],
  [
    '[2] made by the tool, token, fields, path conns, +variable, extra, written for Airflow 3: token-kwargs-var + doctor-sourced-shell + kwargs-in-cfg + fields-bad-port',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[3] made by the tool, token, TLS, mount kv: kwargs-secret-suffix',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, approle, mount airflow, path conns, +variable: kwargs-cmd + mount-null',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[3] made by hand, userpass, mount airflow, namespace: kwargs-secret-suffix',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[3] made by hand, token, path conns, +variable: kwargs-cfg-raw-percent',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[3] made by the tool, approle, path conns, extra: per-key-mount + doctor-sourced-shell + uri-and-fields',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[3] made by the tool, token, TLS, path conns, +variable, extra: connections-path-list + env-bare',
    { without: 'F11: the emulation fails a working set-up' },
  ],
  [
    '[2] made by the tool, token, path conns, extra, written for Airflow 3: uri-raw-hash',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, token, mount kv, +variable, escaped password, extra: server-sealed',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] made by hand, userpass, KV v1, mount airflow, extra: proxies-kwarg-dead',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by hand, approle, fields, KV v1, mount airflow, extra: env-export + proxy-not-bypassed',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] made by hand, userpass, TLS, KV v1, mount airflow, path conns, extra: class-in-shell + tls-verify-false + connections-path-slashes + kwargs-secret-suffix',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[2] made by the tool, approle, TLS, mount kv, extra: class-in-shell + env-bare + kwargs-in-shell + server-stopped',
    { fix: 'F10: a stopped TLS sandbox blamed on its CA file' },
  ],
  [
    '[3] made by the tool, token, TLS, escaped password, extra: fields-unknown-name',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[2] made by the tool, token, mount kv: token-limited-uses',
    { without: 'F11: the emulation fails a working set-up', trace: "F12: doctor spends a limited token's uses" },
  ],
  ['[2] made by the tool, approle, path conns, extra: uri-and-fields', { fix: 'F2: prose, not a command or an edit' }],
  [
    '[3] made by hand, reader token, fields, mount airflow, path conns, +variable: mount-null',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[3] made by the tool, approle, fields: proxy-bypassed + approle-mount-empty',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[2] made by hand, userpass, mount airflow, path conns: class-in-cfg + url-wrong-port',
    { fix: 'F9: `up` printed where it fails or is refused' },
  ],
  [
    '[3] made by the tool, token, fields, TLS, +variable, extra: token-cmd-subst + kwargs-cfg-cmd + hvac-timeout',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[3] made by hand, reader token, TLS, mount airflow, namespace: connections-path-slashes + fields-unknown-name',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[2] made by the tool, approle, TLS, +variable: secret-under-uri + doctor-sourced-shell + kwargs-cfg-raw-percent',
    { link: 'F7: a start-up failure blamed on a later link', fix: 'F7: a start-up failure blamed on a later link' },
  ],
  [
    '[3] made by the tool, approle, path airflow/connections: url-from-vault-addr + env-export + proxy-not-bypassed',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] made by hand, userpass, fields, TLS, KV v1, +variable, escaped password: proxies-kwarg-dead',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[2] made by hand, approle, fields, path airflow/connections, escaped password, extra: kv-version-mismatch',
    { link: 'F8: a 403 on a path the policy does not cover read as the policy' },
  ],
  [
    '[3] made by hand, reader token, fields, KV v1, +variable: stale-conn-env + url-wrong-port',
    { fix: 'F9: `up` printed where it fails or is refused' },
  ],
  [
    '[3] made by the tool, token, mount airflow, +variable, written for Airflow 3: stale-shell-token',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] made by the tool, approle, +variable, escaped password, written for Airflow 3: kwargs-secret-suffix',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  ['[2] made by the tool, approle, fields, +variable: var-no-value', { fix: 'F2: prose, not a command or an edit' }],
  [
    '[2] made by hand, reader token, TLS, mount airflow: token-shell-ref + tls-ca-bundle-env + url-from-vault-addr',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[3] made by hand, userpass, mount airflow, path conns: kwargs-cfg-raw-percent',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, token, TLS: per-key-url + kwargs-cfg-raw-percent',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[3] made by the tool, approle, fields, TLS, path conns, escaped password, written for Airflow 3: vault-value-differs',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by hand, reader token, fields, escaped password: env-export + stale-conn-env + kwargs-cfg-raw-percent',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  ['[3] made by the tool, token: token-path-missing', { fix: 'F2: prose, not a command or an edit' }],
  [
    '[2] made by hand, approle, fields, mount airflow, namespace, +variable, escaped password: doctor-sourced-shell + mount-wrong',
    {
      link: 'F8: a 403 on a path the policy does not cover read as the policy',
      fix: 'F8: a policy fix that does not change what Vault answers',
    },
  ],
  [
    '[3] made by the tool, token, path airflow/connections: policy-deny',
    { fix: 'F8: a policy fix that does not change what Vault answers' },
  ],
  [
    '[3] made by hand, reader token, fields, KV v1, mount kv, path airflow/connections, escaped password: stale-conn-env + token-revoked',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
    },
  ],
  [
    '[3] made by the tool, token, TLS, path conns, +variable: token-cmd-subst + tls-verify-false',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[3] made by the tool, approle, TLS, path conns, escaped password: uri-raw-percent',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by hand, reader token, fields, path conns, escaped password: per-key-token + mount-null',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[3] made by the tool, token, fields, +variable, written for Airflow 3: token-path + class-in-shell + mount-wrong',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[3] made by hand, reader token, mount kv, path airflow/connections, +variable: uri-vector + per-key-mount + connections-path-wrong',
    {
      link: 'F8: a 403 on a path the policy does not cover read as the policy',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[3] made by the tool, approle, TLS, path conns: uri-raw-slash',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, token, fields, mount airflow, escaped password: kwargs-in-cfg + token-limited-uses',
    { without: 'F11: the emulation fails a working set-up', trace: "F12: doctor spends a limited token's uses" },
  ],
  [
    '[2] made by hand, userpass, KV v1, mount airflow, escaped password, extra: env-bare + secret-missing',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[2] made by hand, reader token, KV v1, mount kv, namespace: url-from-vault-addr + token-shell-ref',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[3] made by hand, userpass, KV v1, +variable, extra: hvac-timeout + policy-other-path',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, approle, mount airflow, written for Airflow 3: class-contrib',
    { without: 'F11: the emulation passes a broken set-up' },
  ],
  ['[3] made by the tool, token, TLS: global-secrets-path', { without: 'F11: the emulation fails a working set-up' }],
  [
    '[2] made by the tool, approle, fields, TLS, +variable, escaped password: class-contrib + secret-version-deleted',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[2] made by the tool, token, fields, +variable: kwargs-cfg-raw-percent',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[3] made by the tool, token, fields, TLS, +variable: per-key-url-wrong',
    { fix: 'F6: the JSON edited while the per-key variable wins' },
  ],
  [
    '[2] made by the tool, token, mount airflow, escaped password, extra: kwargs-cmd + kv-version-mismatch',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] made by hand, reader token, fields, mount kv, path conns, extra: per-key-kv-version',
    { fix: 'F6: the JSON edited while the per-key variable wins' },
  ],
  [
    '[2] made by hand, reader token, mount airflow, path conns, escaped password: kwargs-cfg-raw-percent',
    { link: 'F7: a start-up failure blamed on a later link', fix: 'F7: a start-up failure blamed on a later link' },
  ],
  [
    '[2] made by the tool, token, TLS, mount kv, path conns, +variable: tls-cacert-env + proxy-bypassed + mount-trailing-slash + uri-refused',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, token, +variable, escaped password: token-env + stale-conn-env + class-in-shell + uri-raw-slash',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F3: no check explains it',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, token, fields, TLS, path conns, +variable, escaped password: env-export + server-stopped',
    { fix: 'F10: a stopped TLS sandbox blamed on its CA file' },
  ],
  [
    '[2] made by the tool, token, fields, TLS, +variable: token-kwargs-var',
    { without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[2] made by hand, approle, TLS, path conns, escaped password: url-http-on-https',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[2] made by the tool, approle, +variable, escaped password: secret-version-deleted',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[2] made by hand, token, TLS, KV v1, path airflow/connections, escaped password, extra: kwargs-cmd + secret-under-uri + url-from-vault-addr + tls-no-ca',
    { fix: 'F2: prose, not a command or an edit' },
  ],
  [
    '[2] made by hand, approle, mount kv, escaped password, extra: kwargs-cmd + kv-version-mismatch',
    { link: 'F8: a 403 on a path the policy does not cover read as the policy' },
  ],
  [
    '[2] made by the tool, token, path airflow/connections, +variable, escaped password: var-value-null',
    {
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] made by the tool, token, path airflow/connections: vault-value-differs',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  ['[3] AppRole with a wrong secret_id', { fix: 'F1: a fix with words after the command is not runnable as printed' }],
  [
    '[3] a token the server does not know',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  ['[3] a secret whose field names Airflow does not know', { fix: 'F2: prose, not a command or an edit' }],
  ['[2] a secret whose field names Airflow does not know', { fix: 'F2: prose, not a command or an edit' }],
  ['[3] a variable stored without a value key', { fix: 'F2: prose, not a command or an edit' }],
  ['[3] mount_point where nothing is mounted', { fix: 'F2: prose, not a command or an edit' }],
  ['[3] the Airflow 1.10 class path on Airflow 3', { without: 'F11: the emulation passes a broken set-up' }],
  ['[3] a url where nothing listens', { fix: 'F9: `up` printed where it fails or is refused' }],
  [
    '[3] HTTP_PROXY set and NO_PROXY does not cover Vault',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] connections_path that holds nothing',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  ['[3] a namespace that does not hold the secret', { fix: 'F2: prose, not a command or an edit' }],
  ['[3] uri together with other fields', { fix: 'F2: prose, not a command or an edit' }],
  ['[2] a port that is not a number', { fix: 'F2: prose, not a command or an edit' }],
  ['[2] Vault misses, a metastore row answers', { without: 'F11: the emulation fails a working set-up' }],
  [
    '[3] a URI with an unescaped / in the password',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[2] a URI with an unescaped / in the password',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] a URI Airflow refuses (a bad port)',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] a variable whose value is null',
    {
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] userpass with a wrong password',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[2] userpass with a wrong password',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] an unescaped % in the kwargs in airflow.cfg',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[2] an unescaped % in the kwargs in airflow.cfg',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[3] a dead proxy in the proxies kwarg',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] kwargs read from AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET',
    {
      link: 'F7: a start-up failure blamed on a later link',
      fix: 'F1: a fix with words after the command is not runnable as printed',
    },
  ],
  [
    '[3] AppRole login at an auth mount where nothing is enabled',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] a kwargs url on the wrong port while VAULT_ADDR is right (sandbox made by the tool)',
    { fix: 'F9: `up` printed where it fails or is refused' },
  ],
  [
    '[3] a per-key AIRFLOW__SECRETS__BACKEND_KWARG__KV_ENGINE_VERSION (a string)',
    { fix: 'F6: the JSON edited while the per-key variable wins' },
  ],
  [
    '[3] a stale per-key AIRFLOW__SECRETS__BACKEND_KWARG__URL beside the right JSON url',
    { fix: 'F6: the JSON edited while the per-key variable wins' },
  ],
  [
    '[3] VAULT_TOKEN=$(cat file) in .env',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[2] VAULT_TOKEN=$(cat file) in .env',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[3] VAULT_TOKEN from the shell variable CSS_TOKEN in .env, doctor run from the shell that sourced it',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[2] VAULT_TOKEN from the shell variable CSS_TOKEN in .env, doctor run from the shell that sourced it',
    { exit: 'F5: .env read by its own parser, not by bash', without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[3] conn_uri with a raw # in the password (host and port taken from the login)',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[2] conn_uri with a raw # in the password (host and port taken from the login)',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[3] an __extra__ that is not JSON',
    {
      link: 'F3: no check explains it',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    '[2] an __extra__ that is not JSON',
    {
      exit: 'F4: a wrong value Airflow resolves passes',
      link: 'F4: a wrong value Airflow resolves passes',
      fix: 'F4: a wrong value Airflow resolves passes',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  ['[3] connections_path a list', { without: 'F11: the emulation fails a working set-up' }],
  ['[3] global_secrets_path holding the connection', { without: 'F11: the emulation fails a working set-up' }],
  [
    '[3] kwargs Airflow cannot parse, the defaults and VAULT_TOKEN working',
    { without: 'F11: the emulation fails a working set-up' },
  ],
  ['[3] %% in the kwargs in airflow.cfg', { without: 'F11: the emulation fails a working set-up' }],
  ['[2] %% in the kwargs in airflow.cfg', { without: 'F11: the emulation fails a working set-up' }],
  [
    '[3] $CSS_TOKEN in the kwargs (Airflow expands $VAR in config values)',
    { without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[2] $CSS_TOKEN in the kwargs (Airflow expands $VAR in config values)',
    { without: 'F5: .env read by its own parser, not by bash' },
  ],
  [
    '[2] per-key token on Airflow 2.11 with no VAULT_TOKEN to fall back to',
    { link: 'F6: per-key kwargs (ignored on 2.11)', without: 'F11: the emulation passes a broken set-up' },
  ],
  [
    '[3] a token limited to 6 uses',
    { without: 'F11: the emulation fails a working set-up', trace: "F12: doctor spends a limited token's uses" },
  ],
  [
    '[3] an AppRole secret_id that may be used once, used',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] no url in the kwargs and VAULT_ADDR on a port where nothing listens',
    { fix: 'F9: `up` printed where it fails or is refused' },
  ],
  ['[3] verify naming a CA file that does not exist', { fix: 'F2: prose, not a command or an edit' }],
  [
    '[3] the mount repeated in connections_path',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] no namespace in the kwargs while the secrets live in one',
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] a .env saved with CRLF line ends',
    {
      exit: 'F5: .env read by its own parser, not by bash',
      link: 'F5: .env read by its own parser, not by bash',
      fix: 'F3: no check explains it',
      without: 'F11: the emulation passes a broken set-up',
    },
  ],
  [
    "[3] no token in the sandbox's files and yesterday's VAULT_TOKEN in the shell",
    { fix: 'F1: a fix with words after the command is not runnable as printed' },
  ],
  [
    '[3] the server stopped after the .env was edited (up keeps an edited .env)',
    { fix: 'F9: `up` printed where it fails or is refused' },
  ],
]);
