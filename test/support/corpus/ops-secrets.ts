/**
 * Operators on what Vault holds and on the sources that may answer instead: URI edge cases (the
 * URI vectors Airflow parses, and the classic traps: a raw `#`, `/` or `%` in a password, an
 * `__extra__` that is not JSON), the fields form (names Airflow does not know, a port that is not a
 * number), variables without `value`, a value in Vault that is not the one the sandbox seeded, and
 * AIRFLOW_CONN_<ID> and AIRFLOW_VAR_<KEY> in the shell (Airflow asks Vault first, then the environment).
 * Also the path spellings the provider accepts (a trailing `/` on the mount, a leading or trailing
 * `/` on connections_path, a list of paths).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldsOf, intentOfVector, quote, uriOf, uriVectors } from './conns.js';
import { op, type Op } from './op.js';
import type { ConnSeed, Facts, World } from './world.js';

const kwargsReadable = (f: Facts): boolean => f.kwargsPlace !== 'none';

/** Which vectors a set-up may hold as a working value: Airflow parses them (some of them differently per major). */
const PARSED = uriVectors().filter((v) => !v.error);
const REFUSED = uriVectors().filter((v) => v.error);

/** The first connection (every set-up has one). */
function conn(w: World): ConnSeed {
  const c = w.conns[0];
  if (!c) throw new Error('corpus set-up: no connection');
  return c;
}

/**
 * The user's own words change too: the tool's secrets-sandbox.yaml (a user edits it, then `up`
 * seeds it) or the hand-written one (rendered from w.conns).
 */
function setUserUri(w: World, c: ConnSeed, uri: string): void {
  c.uri = uri;
  if (w.writeYaml) return;
  const file = join(w.dir, 'secrets-sandbox.yaml');
  const text = readFileSync(file, 'utf8');
  const re = new RegExp(`^(\\s+${c.id}:\\s*).*$`, 'm');
  if (!re.test(text)) throw new Error(`corpus set-up: no ${c.id} in ${file}`);
  writeFileSync(
    file,
    text.replace(re, (_m, head: string) => `${head}${JSON.stringify(uri)}`),
  );
}

/** A URI with the password left raw (not percent-encoded), as users paste it. */
function rawPasswordUri(w: World, password: string): string {
  const i = conn(w).intent;
  return uriOf({ ...i, password: 'PW-PLACEHOLDER' }).replace('PW-PLACEHOLDER', password);
}

async function storeUri(w: World, c: ConnSeed, uri: string): Promise<void> {
  await w.putSecret('conn', c.id, { conn_uri: uri });
}

export const SECRET_OPS: Op[] = [
  // --- working values and path spellings ------------------------------------------------------
  op({
    id: 'uri-vector',
    class: 'secret shapes and values',
    title: 'a URI edge case Airflow parses (from the URI vectors)',
    kind: 'benign',
    when: (f) => f.format === 'uri' && !f.applied.some((a) => a.startsWith('uri-')),
    apply: async (w) => {
      const v = PARSED[w.n % PARSED.length];
      if (!v) return;
      const c = conn(w);
      c.intent = intentOfVector(v, w.major);
      setUserUri(w, c, v.uri);
      await storeUri(w, c, v.uri);
    },
  }),
  op({
    id: 'secret-under-uri',
    class: 'secret shapes and values',
    title: 'the URI stored under uri, not conn_uri (Connection.from_json takes it)',
    kind: 'benign',
    when: (f) => f.format === 'uri',
    apply: async (w) => {
      const c = conn(w);
      await w.putSecret('conn', c.id, { uri: c.uri });
    },
  }),
  op({
    id: 'mount-trailing-slash',
    class: 'mounts and paths',
    title: 'mount_point with a trailing slash ("secret/")',
    kind: 'benign',
    when: (f) => kwargsReadable(f) && !f.applied.includes('per-key-mount'),
    apply: (w) => w.editKwargs((kw) => (kw.mount_point = `${String(kw.mount_point)}/`)),
  }),
  op({
    id: 'connections-path-slashes',
    class: 'mounts and paths',
    title: 'connections_path with a trailing slash',
    kind: 'benign',
    when: (f) =>
      kwargsReadable(f) && !f.applied.some((a) => a.startsWith('connections-path') || a === 'global-secrets-path'),
    apply: (w) => w.editKwargs((kw) => (kw.connections_path = `${String(kw.connections_path)}/`)),
  }),
  op({
    id: 'connections-path-leading-slash',
    class: 'mounts and paths',
    title: 'connections_path with a leading slash (/connections)',
    kind: 'benign',
    when: (f) => kwargsReadable(f) && !f.applied.some((a) => a.startsWith('connections-path')),
    apply: (w) => w.editKwargs((kw) => (kw.connections_path = `/${w.store.connectionsPath}`)),
  }),
  op({
    id: 'global-secrets-path',
    class: 'mounts and paths',
    title: 'connections_path wrong but global_secrets_path (deprecated fallback) holding the connection',
    kind: 'benign',
    // A token whose policy does not cover the first path gets 403 there, which ends the lookup.
    when: (f) =>
      f.rootToken && kwargsReadable(f) && !f.applied.some((a) => a.startsWith('connections-path')) && !f.hasVar,
    apply: (w) =>
      w.editKwargs((kw) => {
        kw.global_secrets_path = w.store.connectionsPath;
        kw.connections_path = `${w.store.connectionsPath}-old`;
      }),
  }),
  op({
    id: 'connections-path-list',
    class: 'mounts and paths',
    title: 'connections_path a list, the first entry empty (provider 4.8 tries each)',
    kind: 'benign',
    when: (f) =>
      f.rootToken &&
      kwargsReadable(f) &&
      !f.applied.some((a) => a.startsWith('connections-path') || a === 'global-secrets-path'),
    apply: (w) => w.editKwargs((kw) => (kw.connections_path = [`${w.store.connectionsPath}-old`, kw.connections_path])),
  }),
  op({
    id: 'variables-path-null-unused',
    class: 'mounts and paths',
    title: 'variables_path null (no variable in use)',
    kind: 'benign',
    when: (f) => !f.hasVar && kwargsReadable(f),
    apply: (w) => w.editKwargs((kw) => (kw.variables_path = null)),
  }),
  op({
    id: 'hvac-timeout',
    class: 'kwargs keys and types',
    title: 'an hvac.Client kwarg the provider passes on (timeout)',
    kind: 'benign',
    when: kwargsReadable,
    apply: (w) => w.editKwargs((kw) => (kw.timeout = 30)),
  }),

  // --- secret shapes and values (broken) -------------------------------------------------------
  op({
    id: 'uri-raw-hash',
    class: 'secret shapes and values',
    title: 'a raw # in the password (Airflow reads the login as host and the digits as port)',
    kind: 'breaking',
    when: (f) => f.format === 'uri',
    breaks: () => 'secret shape',
    apply: async (w) => {
      const c = conn(w);
      c.intent = { ...c.intent, password: `1234#x${w.n}` };
      const uri = rawPasswordUri(w, `1234#x${w.n}`);
      setUserUri(w, c, uri);
      await storeUri(w, c, uri);
    },
  }),
  op({
    id: 'uri-raw-slash',
    class: 'secret shapes and values',
    title: 'a raw / in the password (Airflow cannot read a port)',
    kind: 'breaking',
    when: (f) => f.format === 'uri',
    breaks: () => 'secret shape',
    apply: async (w) => {
      const c = conn(w);
      c.intent = { ...c.intent, password: `pa/ss${w.n}` };
      const uri = rawPasswordUri(w, `pa/ss${w.n}`);
      setUserUri(w, c, uri);
      await storeUri(w, c, uri);
    },
  }),
  op({
    id: 'uri-raw-percent',
    class: 'secret shapes and values',
    title: 'a raw %41 in the password (Airflow decodes it to A)',
    kind: 'breaking',
    when: (f) => f.format === 'uri',
    breaks: () => 'secret shape',
    apply: async (w) => {
      const c = conn(w);
      c.intent = { ...c.intent, password: `p%41ss${w.n}` };
      const uri = rawPasswordUri(w, `p%41ss${w.n}`);
      setUserUri(w, c, uri);
      await storeUri(w, c, uri);
    },
  }),
  op({
    id: 'uri-refused',
    class: 'secret shapes and values',
    title: 'a URI Airflow refuses (from the URI vectors)',
    kind: 'breaking',
    when: () => true,
    breaks: () => 'secret shape',
    apply: async (w) => {
      const v = REFUSED[w.n % REFUSED.length];
      if (v) await storeUri(w, conn(w), v.uri);
    },
  }),
  op({
    id: 'extra-not-json',
    class: 'secret shapes and values',
    title: 'an __extra__ that is not JSON (Airflow resolves an empty extra)',
    kind: 'breaking',
    when: (f) => f.format === 'uri',
    breaks: () => 'secret shape',
    apply: async (w) => {
      const c = conn(w);
      c.intent = { ...c.intent, extra: { sslmode: 'require' } };
      const uri = `${uriOf({ ...c.intent, extra: null })}${c.intent.schema ? '' : '/'}?__extra__=${quote('{"sslmode": "require"')}`;
      setUserUri(w, c, uri);
      await storeUri(w, c, uri);
    },
  }),
  op({
    id: 'fields-unknown-name',
    class: 'secret shapes and values',
    title: 'a field name Airflow does not know (hostname)',
    kind: 'breaking',
    when: () => true,
    breaks: () => 'secret shape',
    apply: async (w) => {
      const c = conn(w);
      await w.putSecret('conn', c.id, { ...fieldsOf(c.intent), hostname: c.intent.host });
    },
  }),
  op({
    id: 'fields-bad-port',
    class: 'secret shapes and values',
    title: 'a port field that is not a number',
    kind: 'breaking',
    when: () => true,
    breaks: () => 'secret shape',
    apply: async (w) => {
      const c = conn(w);
      await w.putSecret('conn', c.id, { ...fieldsOf(c.intent), port: 'fivefour' });
    },
  }),
  op({
    id: 'uri-and-fields',
    class: 'secret shapes and values',
    title: 'uri (not conn_uri) together with other fields',
    kind: 'breaking',
    when: () => true,
    breaks: () => 'secret shape',
    apply: async (w) => {
      const c = conn(w);
      await w.putSecret('conn', c.id, { uri: c.uri, host: 'other.example.com' });
    },
  }),
  op({
    id: 'vault-value-differs',
    class: 'secret shapes and values',
    title: 'Vault holds another password than the sandbox seeded (a hand-made kv put)',
    kind: 'breaking',
    when: (f) => f.base === 'tool',
    breaks: () => 'secret shape',
    apply: async (w, f) => {
      const c = conn(w);
      const other = { ...c.intent, password: `changed-${w.n}` };
      await w.putSecret('conn', c.id, f.format === 'uri' ? { conn_uri: uriOf(other) } : fieldsOf(other));
    },
  }),
  op({
    id: 'var-no-value',
    class: 'secret shapes and values',
    title: 'a variable stored without a value key',
    kind: 'breaking',
    when: (f) => f.hasVar,
    breaks: () => 'secret shape',
    apply: async (w) => {
      const v = w.vars[0];
      if (v) await w.putSecret('var', v.key, { val: v.value });
    },
  }),
  op({
    id: 'var-value-null',
    class: 'secret shapes and values',
    title: 'a variable whose value is null',
    kind: 'breaking',
    when: (f) => f.hasVar,
    breaks: () => 'secret shape',
    apply: async (w) => {
      const v = w.vars[0];
      if (v) await w.putSecret('var', v.key, { value: null });
    },
  }),

  // --- shadowing sources ----------------------------------------------------------------------
  op({
    id: 'stale-conn-env',
    class: 'shadowing sources',
    title: 'an old AIRFLOW_CONN_<ID> in the shell (Vault answers first)',
    kind: 'benign',
    when: (f) => !f.applied.includes('conn-only-in-env'),
    apply: (w) => {
      const c = conn(w);
      w.shell[`AIRFLOW_CONN_${c.id.toUpperCase()}`] = uriOf({ ...c.intent, password: `old-${w.n}` });
    },
  }),
  op({
    id: 'conn-only-in-env',
    class: 'shadowing sources',
    title: 'the connection not in Vault but in AIRFLOW_CONN_<ID> (the environment answers)',
    kind: 'benign',
    when: (f) => !f.applied.includes('stale-conn-env') && !f.hasVar,
    facts: () => ({ alone: true }),
    apply: async (w) => {
      const c = conn(w);
      await w.deleteSecret('conn', c.id);
      w.shell[`AIRFLOW_CONN_${c.id.toUpperCase()}`] = c.uri;
    },
  }),
  op({
    id: 'conn-only-in-metastore',
    class: 'shadowing sources',
    title: "the connection not in Vault but in Airflow's metastore (a row `connections add` wrote)",
    kind: 'benign',
    namedOnly: true,
    when: (f) => !f.applied.some((a) => a.startsWith('conn-only') || a === 'stale-conn-env') && !f.hasVar,
    facts: () => ({ alone: true }),
    apply: async (w) => {
      const c = conn(w);
      await w.deleteSecret('conn', c.id);
      w.airflowPrep.push(['db', 'migrate'], ['connections', 'add', c.id, '--conn-uri', c.uri]);
    },
  }),
  op({
    id: 'stale-var-env',
    class: 'shadowing sources',
    title: 'an old AIRFLOW_VAR_<KEY> in the shell (Vault answers first)',
    kind: 'benign',
    when: (f) => f.hasVar,
    apply: (w) => {
      const v = w.vars[0];
      if (v) w.shell[`AIRFLOW_VAR_${v.key.toUpperCase()}`] = `old-${v.value}`;
    },
  }),
];
