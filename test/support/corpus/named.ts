/**
 * Named regression cases: fixed set-ups with descriptive names, built from the same bases and
 * operators as the generated ones. The set-ups the earlier hand-written corpus held, each case
 * issue 20 lists, and every disagreement the generator found that is worth a name of its own.
 * A named case's operators must all apply (its name promises them); see named.test in
 * test/unit/corpus-generator.test.ts.
 */
import type { BaseSpec } from './bases.js';
import { simulate, type SetUpSpec } from './generate.js';
import type { Major } from './world.js';

/** The plainest base: a dev server started by hand, the root token in the kwargs, conn_uri. */
const HAND: BaseSpec = {
  kind: 'manual',
  auth: 'token',
  leastPrivilege: false,
  format: 'uri',
  tls: false,
  kv: 2,
  mount: 'secret',
  connectionsPath: 'connections',
  variablesPath: 'variables',
  variable: false,
  connKind: 0,
  namespace: false,
  airflowVersion: 'major',
  specialPassword: false,
  extra: false,
};
/** The sandbox as the tool writes it, for Airflow 3 unless said otherwise. */
const TOOL: BaseSpec = { ...HAND, kind: 'tool' };

export interface Named {
  name: string;
  spec(n: number): SetUpSpec;
}

function named(name: string, majors: Major[], base: Partial<BaseSpec>, ops: string[] = []): Named[] {
  return majors.map((major) => ({
    name: `[${major}] ${name}`,
    spec: (n: number) => {
      const s = simulate(n, major, { ...HAND, ...base }, ops, `[${major}] ${name}`);
      if (s.ops.length !== ops.length)
        throw new Error(`named case "${name}": ${ops.filter((o) => !s.ops.includes(o)).join(', ')} do not apply`);
      return s;
    },
  }));
}

const both: Major[] = ['3', '2'];
const three: Major[] = ['3'];
const two: Major[] = ['2'];
const withVar = { variable: true };
const reader = { leastPrivilege: true };

/** The set-ups the earlier hand-written corpus held (working first); they run with `npm run corpus -- --full`. */
const EARLIER: Named[] = [
  // The hand-written corpus before the generator, set-up by set-up (working first).
  ...named('the set-up as Airflow documents it: root token, conn_uri, a variable', both, withVar),
  ...named('mount_point "secret/" (hvac joins the slash)', both, {}, ['mount-trailing-slash']),
  ...named('a secret stored under uri', three, {}, ['secret-under-uri']),
  ...named('backend and kwargs in airflow.cfg, not the environment', both, {}, ['class-in-cfg', 'kwargs-in-cfg']),
  ...named('a least-privilege token that can read (KV v2 data/ paths)', both, { ...reader, ...withVar }),
  ...named('token_path: the token in a file', three, reader, ['token-path']),
  ...named('AppRole with role_id and secret_id and a policy that reads', both, { auth: 'approle', ...withVar }),
  ...named('fields format (conn_type, host, login, password, port)', three, { format: 'fields' }),
  ...named('connections_path with a leading slash', three, {}, ['connections-path-leading-slash']),
  ...named('a KV v1 mount read with kv_engine_version 1', three, { kv: 1, mount: 'kv1' }),
  ...named('no url in the kwargs: VAULT_ADDR in the environment', three, {}, ['url-from-vault-addr']),
  ...named('no token in the kwargs: VAULT_TOKEN in the environment', three, {}, ['token-env']),
  ...named('Vault misses but AIRFLOW_CONN_* answers', three, {}, ['conn-only-in-env']),
  ...named('kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_CMD', three, {}, ['kwargs-cmd']),
  ...named('a namespace that holds the secret', three, { namespace: true }),
  ...named('HTTP_PROXY set, NO_PROXY covers the loopback address', three, {}, ['proxy-bypassed']),
  ...named('auth_type approle without role_id', both, { auth: 'approle' }, ['approle-no-role-id']),
  ...named('AppRole with a wrong secret_id', three, { auth: 'approle' }, ['approle-wrong-secret-id']),
  ...named('a policy written for secret/connections/* (no data/ on KV v2)', both, { ...reader, ...withVar }, [
    'policy-no-data',
  ]),
  ...named('a token the server does not know', three, {}, ['token-unknown']),
  ...named('connections_path null', both, {}, ['connections-path-null']),
  ...named('variables_path null with a variable seeded', both, withVar, ['variables-path-null']),
  ...named('a secret whose field names Airflow does not know', both, {}, ['fields-unknown-name']),
  ...named('a variable stored without a value key', three, withVar, ['var-no-value']),
  ...named('mount_point where nothing is mounted', three, {}, ['mount-wrong']),
  ...named('kv_engine_version 1 on a KV v2 mount', three, {}, ['kv-version-mismatch']),
  ...named('kv_engine_version as the string "2"', three, {}, ['kv-version-string']),
  ...named('the Airflow 1.10 class path on Airflow 3', three, {}, ['class-contrib']),
  ...named('the Airflow 1.10 class path on Airflow 3, the config saying 3', three, {}, [
    'config-says-major',
    'class-contrib',
  ]),
  ...named('no secrets backend configured', three, {}, ['class-unset']),
  ...named('kwargs that are not JSON (a Python dict)', three, {}, ['kwargs-python-repr']),
  ...named('an unknown kwarg (mountpoint)', both, {}, ['kwargs-unknown-key']),
  ...named('https against the plain-HTTP dev server', three, {}, ['url-https-on-http']),
  ...named('a url where nothing listens', three, {}, ['url-wrong-port']),
  ...named('HTTP_PROXY set and NO_PROXY does not cover Vault', three, {}, ['proxy-not-bypassed']),
  ...named('connections_path that holds nothing', three, {}, ['connections-path-wrong']),
  ...named('no token anywhere (auth_type token)', three, {}, ['token-nowhere']),
  ...named('a namespace that does not hold the secret', three, { namespace: true }, ['namespace-wrong']),
  ...named('uri together with other fields', three, {}, ['uri-and-fields']),
  ...named('a port that is not a number', two, {}, ['fields-bad-port']),
  ...named('Vault misses, a metastore row answers', two, {}, ['conn-only-in-metastore']),
];

/**
 * Issue 20's own list, and every disagreement found since, each a named regression case CI runs
 * (a new one goes at the end, so every case keeps its number).
 */
const REGRESSIONS: Named[] = [
  // Issue 20's list: with Airflow on PATH, the link and the fix.
  ...named('a URI with an unescaped / in the password', both, {}, ['uri-raw-slash']),
  ...named('a URI Airflow refuses (a bad port)', three, {}, ['uri-refused']),
  ...named('a variable whose value is null', three, withVar, ['var-value-null']),
  ...named('userpass with a wrong password', both, { auth: 'userpass' }, ['userpass-wrong-password']),
  ...named('an unescaped % in the kwargs in airflow.cfg', both, {}, ['kwargs-cfg-raw-percent']),
  ...named('a dead proxy in the proxies kwarg', three, {}, ['proxies-kwarg-dead']),
  ...named('kwargs read from AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET', three, {}, ['kwargs-secret-suffix']),
  ...named('AppRole login at an auth mount where nothing is enabled', three, { auth: 'approle' }, [
    'approle-mount-empty',
  ]),
  ...named('a kwargs url on the wrong port while VAULT_ADDR is right (sandbox made by the tool)', three, TOOL, [
    'url-wrong-port',
  ]),
  ...named('a per-key AIRFLOW__SECRETS__BACKEND_KWARG__KV_ENGINE_VERSION (a string)', three, TOOL, [
    'per-key-kv-version',
  ]),
  ...named('a stale per-key AIRFLOW__SECRETS__BACKEND_KWARG__URL beside the right JSON url', three, TOOL, [
    'per-key-url-wrong',
  ]),
  // Working set-ups doctor failed: the .env in shell syntax, read as the user's shell reads it.
  ...named('VAULT_TOKEN=$(cat file) in .env', both, TOOL, ['token-cmd-subst']),
  ...named(
    'VAULT_TOKEN from the shell variable CSS_TOKEN in .env, doctor run from the shell that sourced it',
    both,
    TOOL,
    ['token-shell-ref', 'doctor-sourced-shell'],
  ),
  // Wrong values Airflow "found".
  ...named('conn_uri with a raw # in the password (host and port taken from the login)', both, {}, ['uri-raw-hash']),
  ...named('an __extra__ that is not JSON', both, {}, ['extra-not-json']),
  // Without Airflow: working set-ups the emulation failed.
  ...named('connections_path a list', three, {}, ['connections-path-list']),
  ...named('global_secrets_path holding the connection', three, {}, ['global-secrets-path']),
  ...named('kwargs Airflow cannot parse, the defaults and VAULT_TOKEN working', three, TOOL, ['kwargs-trailing-comma']),
  ...named('%% in the kwargs in airflow.cfg', both, {}, ['cfg-percent-escaped']),
  ...named('$CSS_TOKEN in the kwargs (Airflow expands $VAR in config values)', both, TOOL, ['token-kwargs-var']),
  ...named('per-key kwargs on Airflow 2.11 (ignored; VAULT_ADDR answers)', two, TOOL, ['per-key-url']),
  // Broken set-ups the emulation passed.
  ...named('per-key token on Airflow 2.11 with no VAULT_TOKEN to fall back to', two, {}, ['per-key-token']),
  // What doctor's own run did to the set-up.
  ...named('a token limited to 6 uses', three, {}, ['token-limited-uses']),
  // Operators the sample seldom draws.
  ...named('an AppRole secret_id that may be used once, used', three, { auth: 'approle' }, ['approle-secret-id-spent']),
  ...named('no url in the kwargs and VAULT_ADDR on a port where nothing listens', three, {}, [
    'url-from-vault-addr',
    'vault-addr-wrong',
  ]),
  ...named('verify naming a CA file that does not exist', three, { tls: true }, ['tls-ca-missing']),
  ...named('the mount repeated in connections_path', three, {}, ['mount-doubled']),
  ...named('no namespace in the kwargs while the secrets live in one', three, { namespace: true }, [
    'namespace-missing',
  ]),
  // Also seen.
  ...named('a .env saved with CRLF line ends', three, TOOL, ['env-crlf']),
  ...named('the 1.10 class path in a sandbox the tool wrote for Airflow 3', three, TOOL, ['class-contrib']),
  ...named("no token in the sandbox's files and yesterday's VAULT_TOKEN in the shell", three, {}, [
    'stale-shell-token',
  ]),
  ...named('the server stopped after the .env was edited (up keeps an edited .env)', three, TOOL, [
    'env-double-quotes',
    'server-stopped',
  ]),
  // Values, not presence: a URI the sandbox seeds as written, which Airflow reads otherwise.
  ...named('a raw # in a password in secrets-sandbox.yaml (seeded as written)', both, TOOL, ['uri-raw-hash']),
  ...named('a raw %41 in a password in secrets-sandbox.yaml (Airflow decodes it)', three, TOOL, ['uri-raw-percent']),
  ...named('a raw / in a password in secrets-sandbox.yaml while an old AIRFLOW_CONN_ answers', three, TOOL, [
    'stale-conn-env',
    'uri-raw-slash',
  ]),
  ...named('a revoked token while an old AIRFLOW_CONN_ answers', three, reader, ['stale-conn-env', 'token-revoked']),
  ...named('a secret stored under uri in a sandbox the tool wrote', two, TOOL, ['secret-under-uri']),
  // A 403 on the read: the path (a least-privilege token is refused wherever its policy does not reach) or the policy.
  ...named(
    'mount_point where nothing is mounted, read with an AppRole login (403, not 404)',
    two,
    { auth: 'approle' },
    ['mount-wrong'],
  ),
  ...named(
    'kv_engine_version 1 on a KV v2 mount, read with an AppRole login (403, not 404)',
    two,
    { auth: 'approle' },
    ['kv-version-mismatch'],
  ),
  ...named('mount_point null, read by a least-privilege token', three, { ...reader, mount: 'airflow' }, ['mount-null']),
  ...named(
    'mount_point null with AppRole in a sandbox the tool wrote (Airflow never logs in)',
    three,
    {
      ...TOOL,
      auth: 'approle',
      mount: 'airflow',
    },
    ['mount-null'],
  ),
  ...named(
    "a policy that reads another team's path only, AppRole in a sandbox the tool wrote",
    three,
    {
      ...TOOL,
      auth: 'approle',
    },
    ['policy-other-path'],
  ),
  ...named(
    "a policy that reads another team's path only, verify false in a TLS sandbox",
    three,
    { ...TOOL, tls: true },
    ['tls-verify-false', 'policy-other-path'],
  ),
  ...named('a policy that reads the path but denies this connection', both, reader, ['policy-deny']),
  ...named(
    'the connection deleted from a hand-made set-up (userpass, KV v1)',
    two,
    { auth: 'userpass', kv: 1, mount: 'airflow' },
    ['secret-missing'],
  ),
  // Fixes that could not be followed: where the settings live, and what only the user knows.
  ...named('kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET in a sandbox the tool made', three, TOOL, [
    'kwargs-secret-suffix',
  ]),
  ...named('the kwargs JSON unquoted in .env, with lines after it', two, withVar, [
    'stale-conn-env',
    'kwargs-unquoted',
  ]),
  ...named('the kwargs a JSON list around the object', three, {}, ['kwargs-not-object']),
  ...named('an unknown auth_type in kwargs a command prints (cat of a file)', two, TOOL, [
    'kwargs-cmd',
    'auth-type-unknown',
  ]),
  ...named('the server of a TLS sandbox stopped (its CA file goes with it)', both, { ...TOOL, tls: true }, [
    'server-stopped',
  ]),
  ...named(
    'an empty namespace in the kwargs, read by a least-privilege token of the namespace that holds it (403)',
    three,
    {
      ...reader,
      namespace: true,
    },
    ['namespace-wrong'],
  ),
];

export const NAMED: Named[] = [...EARLIER, ...REGRESSIONS];

/**
 * The named cases CI runs (suite.ts; the rest run with `npm run corpus -- --full`): every regression
 * case, and earlier cases doctor was fixed for, one per kind, on the major where it was found.
 */
export const CI_NAMED_CASES: string[] = [
  ...REGRESSIONS.map((r) => r.name),
  '[2] an unknown kwarg (mountpoint)',
  '[3] a policy written for secret/connections/* (no data/ on KV v2)',
];
