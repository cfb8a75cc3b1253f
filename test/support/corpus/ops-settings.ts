/**
 * Operators on the settings Airflow reads: where the class path and kwargs live (the .env, the
 * shell, airflow.cfg, a _CMD, a _SECRET, Airflow 3.3's per-key AIRFLOW__SECRETS__BACKEND_KWARG__*),
 * how the .env spells them for bash, the class path, and the kwargs' keys and types. Read from
 * Airflow's conf (`_shared/configuration/parser.py` on 3.3.2, `configuration.py` on 2.11.2:
 * env var, then _CMD, then _SECRET, then airflow.cfg with configparser's `%` interpolation, with
 * `$VAR` expanded in env and cfg values) and the provider's VaultBackend/_VaultClient (4.8.4).
 */
import { join } from 'node:path';
import { freePort } from '../sandbox.js';
import type { Link } from '../../../src/doctor/types.js';
import { CONTRIB, KWARGS, PROVIDER, type Facts } from './world.js';
import { op, type Op } from './op.js';

const STYLES = ['env-double-quotes', 'env-export', 'env-bare'];
const noStyleYet = (f: Facts): boolean => !STYLES.some((s) => f.applied.includes(s));
const kwargsReadable = (f: Facts): boolean => f.kwargsPlace !== 'none';
const perKeyName = (key: string): string => `AIRFLOW__SECRETS__BACKEND_KWARG__${key.toUpperCase()}`;

/**
 * Kwargs Airflow cannot parse are dropped ("defaulting to no kwargs"): VaultBackend() then reads
 * the default mount and paths, logs in with VAULT_TOKEN and reaches VAULT_ADDR (hvac), verifying
 * with VAULT_CACERT; Airflow 3.3's per-key kwargs still apply. Whether the set-up still works
 * follows from the facts.
 */
export function worksWithoutKwargs(f: Facts): boolean {
  const perKey = (op: string): boolean => f.major === '3' && f.applied.includes(op);
  const token = f.vaultTokenInEnv || (f.tokenVia === 'per-key' && f.major === '3');
  const url = f.vaultAddrInEnv || perKey('per-key-url');
  const tls = !f.tls || f.caInEnv || f.applied.includes('tls-ca-bundle-env');
  return f.defaultPaths && token && url && tls;
}

/** An operator that leaves Airflow no kwargs: it breaks the `link` unless the defaults happen to fit. */
const dropsKwargs =
  (link: Link) =>
  (f: Facts): Link | undefined =>
    worksWithoutKwargs(f) ? undefined : link;

export const SETTINGS_OPS: Op[] = [
  // --- where settings live (benign) ----------------------------------------------------------
  op({
    id: 'kwargs-in-cfg',
    class: 'where settings live',
    title: 'the kwargs in airflow.cfg [secrets] backend_kwargs (% written as %%)',
    kind: 'benign',
    when: (f) => f.kwargsPlace === 'env',
    facts: () => ({ kwargsPlace: 'cfg', envEdited: true }),
    apply: (w) => w.moveKwargs('cfg'),
  }),
  op({
    id: 'class-in-cfg',
    class: 'where settings live',
    title: 'the backend class in airflow.cfg [secrets] backend',
    kind: 'benign',
    when: (f) => f.classPlace === 'env',
    facts: () => ({ classPlace: 'cfg', envEdited: true }),
    apply: (w) => w.moveBackendClass('cfg'),
  }),
  op({
    id: 'kwargs-cmd',
    class: 'where settings live',
    title: 'the kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_CMD (cat of a file)',
    kind: 'benign',
    when: (f) => f.kwargsPlace === 'env',
    facts: () => ({ kwargsPlace: 'env-cmd', envEdited: true }),
    apply: (w) => w.moveKwargs('env-cmd'),
  }),
  op({
    id: 'kwargs-cfg-cmd',
    class: 'where settings live',
    title: 'the kwargs from airflow.cfg backend_kwargs_cmd',
    kind: 'benign',
    when: (f) => f.kwargsPlace === 'env',
    facts: () => ({ kwargsPlace: 'cfg-cmd', envEdited: true }),
    apply: (w) => w.moveKwargs('cfg-cmd'),
  }),
  op({
    id: 'kwargs-in-shell',
    class: 'where settings live',
    title: 'the kwargs exported in the shell, not in .env',
    kind: 'benign',
    when: (f) => f.kwargsPlace === 'env',
    facts: () => ({ kwargsPlace: 'shell', envEdited: true }),
    apply: (w) => w.moveKwargs('shell'),
  }),
  op({
    id: 'class-in-shell',
    class: 'where settings live',
    title: 'the backend class exported in the shell, not in .env',
    kind: 'benign',
    when: (f) => f.classPlace === 'env',
    facts: () => ({ classPlace: 'shell', envEdited: true }),
    apply: (w) => w.moveBackendClass('shell'),
  }),
  op({
    id: 'doctor-sourced-shell',
    class: 'where settings live',
    title: 'doctor run from the shell that sourced .env',
    kind: 'benign',
    when: (f) => !f.applied.includes('doctor-sourced-shell'),
    apply: (w) => {
      w.doctorSourced = true;
    },
  }),

  op({
    id: 'cfg-percent-escaped',
    class: 'where settings live',
    title: 'the kwargs in airflow.cfg holding a % written as %% (configparser reads one)',
    kind: 'benign',
    when: (f) => f.rootToken && f.kwargsPlace === 'env',
    facts: () => ({ kwargsPlace: 'cfg', envEdited: true }),
    apply: (w) => {
      w.editKwargs((kw) => (kw.connections_path = [`old%2F${w.store.connectionsPath}`, kw.connections_path]));
      w.moveKwargs('cfg');
    },
  }),
  op({
    id: 'config-says-major',
    class: 'where settings live',
    title: 'secrets-sandbox.yaml says which Airflow the sandbox is for (airflow.version)',
    kind: 'benign',
    when: (f) => f.base === 'manual' && !f.applied.includes('config-says-major'),
    apply: (w) => {
      w.yamlExtra = `airflow:\n  version: "${w.major}"\n`;
    },
  }),

  // --- env-file syntax ------------------------------------------------------------------------
  op({
    id: 'env-double-quotes',
    class: 'env-file syntax',
    title: 'every .env value in double quotes (", $, ` and \\ escaped)',
    kind: 'benign',
    when: noStyleYet,
    facts: () => ({ envEdited: true }),
    apply: (w) => {
      for (const e of w.env) e.quote = 'double';
      w.envDirty = true;
    },
  }),
  op({
    id: 'env-export',
    class: 'env-file syntax',
    title: 'every .env line with `export`',
    kind: 'benign',
    when: noStyleYet,
    facts: () => ({ envEdited: true }),
    apply: (w) => {
      for (const e of w.env) e.quote = 'export';
      w.envDirty = true;
    },
  }),
  op({
    id: 'env-bare',
    class: 'env-file syntax',
    title: 'every .env value unquoted, special characters backslash-escaped',
    kind: 'benign',
    when: noStyleYet,
    facts: () => ({ envEdited: true }),
    apply: (w) => {
      for (const e of w.env) e.quote = 'bare';
      w.envDirty = true;
    },
  }),
  op({
    id: 'env-crlf',
    class: 'env-file syntax',
    title: '.env saved with CRLF line ends (bash keeps the \\r in every value)',
    kind: 'breaking',
    when: (f) => f.classPlace === 'env',
    facts: () => ({ envEdited: true }),
    breaks: () => 'backend class',
    apply: (w) => {
      w.eol = '\r\n';
      w.envDirty = true;
    },
  }),
  op({
    id: 'kwargs-unquoted',
    class: 'env-file syntax',
    title: 'the kwargs JSON unquoted in .env (bash drops its double quotes)',
    kind: 'breaking',
    when: (f) => f.kwargsPlace === 'env',
    facts: () => ({ envEdited: true }),
    breaks: dropsKwargs('kwargs'),
    apply: (w) => {
      const text = w.kwargsText() ?? '{}';
      w.setEnv(KWARGS, text.replace(/"/g, ''), `${KWARGS}=${text}`);
    },
  }),

  // --- tokens and urls from other places (benign) -------------------------------------------
  op({
    id: 'token-env',
    class: 'where settings live',
    title: 'no token in the kwargs: VAULT_TOKEN in .env',
    kind: 'benign',
    when: (f) => f.auth === 'token' && f.tokenVia === 'kwargs' && kwargsReadable(f),
    facts: () => ({ tokenVia: 'env', vaultTokenInEnv: true, envEdited: true }),
    apply: (w) => {
      const kw = w.kwargs();
      const token = String(kw.token);
      delete kw.token;
      w.setKwargs(kw);
      w.setEnv('VAULT_TOKEN', token);
      w.tokenSink = (t) => w.setEnv('VAULT_TOKEN', t);
    },
  }),
  op({
    id: 'token-shell-ref',
    class: 'env-file syntax',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${VAR}, as the user writes it
    title: 'VAULT_TOKEN="${CSS_TOKEN}" in .env, CSS_TOKEN exported in the shell',
    kind: 'benign',
    when: (f) => f.auth === 'token' && f.tokenVia === 'kwargs' && kwargsReadable(f),
    facts: () => ({ tokenVia: 'env', vaultTokenInEnv: true, envEdited: true }),
    apply: (w) => {
      const kw = w.kwargs();
      const token = String(kw.token);
      delete kw.token;
      w.setKwargs(kw);
      w.shell.CSS_TOKEN = token;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's ${VAR}, as the user writes it
      w.setEnv('VAULT_TOKEN', token, 'VAULT_TOKEN="${CSS_TOKEN}"');
      w.tokenSink = (t) => {
        w.shell.CSS_TOKEN = t;
      };
    },
  }),
  op({
    id: 'token-cmd-subst',
    class: 'env-file syntax',
    title: 'VAULT_TOKEN=$(cat token-file) in .env',
    kind: 'benign',
    when: (f) => f.auth === 'token' && f.tokenVia === 'kwargs' && kwargsReadable(f),
    facts: () => ({ tokenVia: 'env', vaultTokenInEnv: true, envEdited: true }),
    apply: (w) => {
      const kw = w.kwargs();
      const token = String(kw.token);
      delete kw.token;
      w.setKwargs(kw);
      const file = join(w.dir, 'vault-token');
      w.files.set(file, { text: `${token}\n`, mode: 0o600 });
      w.setEnv('VAULT_TOKEN', token, `VAULT_TOKEN=$(cat ${file})`);
      w.tokenSink = (t) => w.files.set(file, { text: `${t}\n`, mode: 0o600 });
    },
  }),
  op({
    id: 'token-kwargs-var',
    class: 'env-file syntax',
    title: 'the kwargs token written as "$CSS_TOKEN" (Airflow expands $VAR in config values)',
    kind: 'benign',
    when: (f) => f.auth === 'token' && f.tokenVia === 'kwargs' && ['env', 'shell', 'cfg'].includes(f.kwargsPlace),
    apply: (w) => {
      const kw = w.kwargs();
      w.shell.CSS_TOKEN = String(kw.token);
      kw.token = '$CSS_TOKEN';
      w.setKwargs(kw);
      w.tokenSink = (t) => {
        w.shell.CSS_TOKEN = t;
      };
    },
  }),
  op({
    id: 'token-path',
    class: 'auth methods',
    title: 'token_path: the token in a file (with a trailing newline)',
    kind: 'benign',
    when: (f) => f.auth === 'token' && f.tokenVia === 'kwargs' && kwargsReadable(f),
    facts: () => ({ tokenVia: 'token_path' }),
    apply: (w) => {
      const kw = w.kwargs();
      const file = join(w.dir, 'airflow-token');
      w.files.set(file, { text: `${String(kw.token)}\n`, mode: 0o600 });
      delete kw.token;
      kw.token_path = file;
      w.setKwargs(kw);
      w.tokenSink = (t) => w.files.set(file, { text: `${t}\n`, mode: 0o600 });
    },
  }),
  op({
    id: 'url-from-vault-addr',
    class: 'where settings live',
    title: 'no url in the kwargs: hvac reads VAULT_ADDR',
    kind: 'benign',
    when: (f) => f.urlInKwargs && f.vaultAddrInEnv && kwargsReadable(f),
    facts: () => ({ urlInKwargs: false }),
    apply: (w) =>
      w.editKwargs((kw) => {
        delete kw.url;
      }),
  }),

  // --- per-key kwargs (Airflow 3.3) -----------------------------------------------------------
  op({
    id: 'per-key-url',
    class: 'per-key kwargs',
    title: 'url from AIRFLOW__SECRETS__BACKEND_KWARG__URL instead of the JSON',
    kind: 'benign',
    when: (f) => f.urlInKwargs && kwargsReadable(f),
    facts: () => ({ urlInKwargs: false, envEdited: true }),
    // Airflow 2.11 has no per-key kwargs: hvac falls back to VAULT_ADDR.
    breaks: (f) => (f.major === '2' && !f.vaultAddrInEnv ? 'config source' : undefined),
    apply: (w) => {
      const kw = w.kwargs();
      w.setEnv(perKeyName('url'), String(kw.url));
      delete kw.url;
      w.setKwargs(kw);
    },
  }),
  op({
    id: 'per-key-token',
    class: 'per-key kwargs',
    title: 'the token from AIRFLOW__SECRETS__BACKEND_KWARG__TOKEN instead of the JSON',
    kind: 'benign',
    when: (f) => f.auth === 'token' && f.tokenVia === 'kwargs' && kwargsReadable(f),
    facts: () => ({ tokenVia: 'per-key', envEdited: true }),
    breaks: (f) => (f.major === '2' && !f.vaultTokenInEnv ? 'config source' : undefined),
    apply: (w) => {
      const kw = w.kwargs();
      w.setEnv(perKeyName('token'), String(kw.token));
      delete kw.token;
      w.setKwargs(kw);
      w.tokenSink = (t) => w.setEnv(perKeyName('token'), t);
    },
  }),
  op({
    id: 'per-key-mount',
    class: 'per-key kwargs',
    title: 'mount_point from AIRFLOW__SECRETS__BACKEND_KWARG__MOUNT_POINT instead of the JSON',
    kind: 'benign',
    when: (f) => kwargsReadable(f) && !f.applied.includes('mount-trailing-slash'),
    facts: () => ({ envEdited: true }),
    // Airflow 2.11 ignores it: the provider's default mount "secret" applies.
    breaks: (f) => (f.major === '2' && f.mount !== 'secret' ? 'config source' : undefined),
    apply: (w) => {
      const kw = w.kwargs();
      w.setEnv(perKeyName('mount_point'), String(kw.mount_point));
      delete kw.mount_point;
      w.setKwargs(kw);
    },
  }),
  op({
    id: 'per-key-kv-version',
    class: 'per-key kwargs',
    title: 'AIRFLOW__SECRETS__BACKEND_KWARG__KV_ENGINE_VERSION=2 (per-key values are strings)',
    kind: 'breaking',
    when: (f) => f.major === '3' && kwargsReadable(f),
    facts: () => ({ envEdited: true }),
    breaks: () => 'kwargs',
    apply: (w) => {
      w.setEnv(perKeyName('kv_engine_version'), String(w.kwargs().kv_engine_version ?? 2));
    },
  }),
  op({
    id: 'per-key-url-wrong',
    class: 'per-key kwargs',
    title: 'a stale AIRFLOW__SECRETS__BACKEND_KWARG__URL (wrong port) beside a right JSON url',
    kind: 'breaking',
    when: (f) => f.major === '3' && kwargsReadable(f),
    facts: () => ({ envEdited: true }),
    breaks: () => 'address/TLS/proxy',
    apply: async (w) => {
      w.setEnv(perKeyName('url'), `${w.server.url.replace(/:\d+$/, '')}:${await freePort()}`);
    },
  }),

  // --- the class path -------------------------------------------------------------------------
  op({
    id: 'class-contrib',
    class: 'class path',
    title: 'the Airflow 1.10 class path (airflow.contrib.secrets.hashicorp_vault.VaultBackend)',
    kind: 'breaking',
    when: (f) => f.classPlace !== 'none',
    // Airflow 2.11 still maps airflow.contrib to the provider (with a deprecation warning).
    breaks: (f) => (f.major === '3' ? 'backend class' : undefined),
    apply: (w) => w.setBackendClass(CONTRIB),
  }),
  op({
    id: 'class-typo',
    class: 'class path',
    title: 'a typo in the class name (VaultBackends)',
    kind: 'breaking',
    when: (f) => f.classPlace !== 'none',
    breaks: () => 'backend class',
    apply: (w) => w.setBackendClass(`${PROVIDER}s`),
  }),
  op({
    id: 'class-module-typo',
    class: 'class path',
    title: 'a typo in the module path (hashicorp.secret.vault)',
    kind: 'breaking',
    when: (f) => f.classPlace !== 'none',
    breaks: () => 'backend class',
    apply: (w) => w.setBackendClass(PROVIDER.replace('.secrets.', '.secret.')),
  }),
  op({
    id: 'class-unset',
    class: 'class path',
    title: 'no secrets backend configured',
    kind: 'breaking',
    when: (f) => f.classPlace !== 'none',
    facts: () => ({ classPlace: 'none' }),
    breaks: () => 'backend class',
    apply: (w) => w.moveBackendClass('none'),
  }),

  // --- kwargs keys and types ------------------------------------------------------------------
  op({
    id: 'kwargs-python-repr',
    class: 'kwargs keys and types',
    title: "the kwargs written as a Python dict ('single quotes', None)",
    kind: 'breaking',
    when: kwargsReadable,
    breaks: dropsKwargs('kwargs'),
    apply: (w) => {
      const kw = w.kwargs();
      const py = Object.entries(kw)
        .map(([k, v]) => `'${k}': ${v === null ? 'None' : typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}`)
        .join(', ');
      w.setKwargsText(`{${py}}`);
    },
  }),
  op({
    id: 'kwargs-trailing-comma',
    class: 'kwargs keys and types',
    title: 'a trailing comma in the kwargs JSON',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: dropsKwargs('kwargs'),
    apply: (w) => w.setKwargsText(`${(w.kwargsText() ?? '{}').replace(/}$/, '')},}`),
  }),
  op({
    id: 'kwargs-not-object',
    class: 'kwargs keys and types',
    title: 'the kwargs a JSON list, not an object',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: dropsKwargs('kwargs'),
    apply: (w) => w.setKwargsText(`[${w.kwargsText() ?? '{}'}]`),
  }),
  op({
    id: 'kwargs-unknown-key',
    class: 'kwargs keys and types',
    title: 'an unknown kwarg (mountpoint; hvac.Client refuses it)',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'kwargs',
    apply: (w) => w.editKwargs((kw) => (kw.mountpoint = 'secret')),
  }),
  op({
    id: 'kv-version-string',
    class: 'kwargs keys and types',
    title: 'kv_engine_version as the string "2"',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'kwargs',
    apply: (w) => w.editKwargs((kw) => (kw.kv_engine_version = String(kw.kv_engine_version ?? 2))),
  }),
  op({
    id: 'kv-version-3',
    class: 'kwargs keys and types',
    title: 'kv_engine_version 3',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'kwargs',
    apply: (w) => w.editKwargs((kw) => (kw.kv_engine_version = 3)),
  }),
  op({
    id: 'auth-type-unknown',
    class: 'kwargs keys and types',
    title: 'auth_type "tokens" (not a method the provider knows)',
    kind: 'breaking',
    when: kwargsReadable,
    breaks: () => 'kwargs',
    apply: (w) => w.editKwargs((kw) => (kw.auth_type = 'tokens')),
  }),
  op({
    id: 'approle-no-role-id',
    class: 'kwargs keys and types',
    title: 'auth_type approle without role_id',
    kind: 'breaking',
    when: (f) => f.auth === 'approle' && kwargsReadable(f),
    breaks: () => 'kwargs',
    apply: (w) =>
      w.editKwargs((kw) => {
        delete kw.role_id;
      }),
  }),
  op({
    id: 'token-nowhere',
    class: 'kwargs keys and types',
    title: 'token auth with no token anywhere (kwargs, token_path, VAULT_TOKEN)',
    kind: 'breaking',
    when: (f) => f.auth === 'token' && f.tokenVia === 'kwargs' && kwargsReadable(f),
    facts: () => ({ vaultTokenInEnv: false, envEdited: true }),
    breaks: () => 'kwargs',
    apply: (w) => {
      w.editKwargs((kw) => {
        delete kw.token;
      });
      w.unsetEnv('VAULT_TOKEN');
      delete w.shell.VAULT_TOKEN;
    },
  }),
  op({
    id: 'kwargs-secret-suffix',
    class: 'where settings live',
    // Airflow reads it through the secrets backend it is building: RecursionError at start-up (3.3.2).
    title: 'the kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_SECRET (read through the backend itself)',
    kind: 'breaking',
    // On 2.11 every airflow command then takes about a minute before it drops the kwargs: too dear to run.
    when: (f) => f.major === '3' && f.kwargsPlace === 'env',
    facts: () => ({ kwargsPlace: 'none', envEdited: true }),
    breaks: () => 'config source',
    apply: (w) => {
      w.moveKwargs('none');
      w.setEnv(`${KWARGS}_SECRET`, 'backend_kwargs');
    },
  }),
  op({
    id: 'kwargs-cfg-raw-percent',
    class: 'where settings live',
    // configparser's InterpolationSyntaxError ends every command at start-up, whatever the defaults.
    title: 'a raw % in the kwargs in airflow.cfg (configparser interpolation; %% needed)',
    kind: 'breaking',
    when: (f) => f.kwargsPlace === 'env',
    facts: () => ({ kwargsPlace: 'cfg', envEdited: true }),
    breaks: () => 'config source',
    apply: (w) => {
      const kw = w.kwargs();
      const path = kw.connections_path ?? 'connections';
      const paths = Array.isArray(path) ? path : [path];
      // The `%` sits in a fallback path Airflow never reaches (the real path answers first): with a
      // least-privilege token a first path outside the policy would answer 403 and break it twice.
      kw.connections_path = [...paths, `old%2F${String(paths[0])}`];
      w.moveKwargs('cfg');
      w.cfgSet('secrets', 'backend_kwargs', JSON.stringify(kw));
    },
  }),
];
