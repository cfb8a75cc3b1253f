/**
 * The differential corpus (issue 10, item 6): set-ups built on a real OpenBao server, working and
 * broken, each judged by real Airflow (`airflow connections get` / `airflow variables get` with the
 * set-up's environment and a fresh AIRFLOW_HOME) and by doctor with Airflow on PATH and without.
 * With Airflow, doctor's exit code must agree with Airflow on every set-up and a failure must be
 * explained by the expected link. Without Airflow, agreement is measured and printed (README:
 * "How far doctor can be trusted").
 *
 * The set-ups are spread over test/e2e/doctor-corpus-<n>.airflow.test.ts (issue 13: no test file
 * over 2 minutes), each file with its own server; Airflow answers through a fork server
 * (airflow-oracle.ts), one per major per file, held to the plain CLI's answers by
 * test/e2e/airflow-oracle.airflow.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from './env.js';
import {
  cleanup,
  freePort,
  killAndWait,
  processesUnder,
  readJson,
  runCli,
  runProcess,
  startManualServer,
  workspace,
  type Run,
  type Workspace,
} from './sandbox.js';
import { AirflowOracle } from './airflow-oracle.js';
import type { Link } from '../../src/doctor/types.js';

export const BIN = serverBinary();
export const AIRFLOW = {
  '3': join(ROOT, '.venvs', 'airflow3', 'bin'),
  '2': join(ROOT, '.venvs', 'airflow2', 'bin'),
} as const;
export type Major = keyof typeof AIRFLOW;
export const PROVIDER = 'airflow.providers.hashicorp.secrets.vault.VaultBackend';
export const CONTRIB = 'airflow.contrib.secrets.hashicorp_vault.VaultBackend';

export interface Harness {
  url: string;
  root: string;
  dir: string;
  conn: string;
  var: string;
  bao(args: string[], input?: string): Promise<string>;
}

export interface Built {
  /** Backend kwargs (object: JSON-encoded; string: written as is; undefined: the default kwargs; null: no kwargs at all). */
  kwargs?: Record<string, unknown> | string | null;
  /** Entries of the set-up's .env beside the backend ones (null removes one). */
  envFile?: Record<string, string | null>;
  /** Variables of the user's shell (both Airflow and doctor get them). */
  shell?: Record<string, string>;
  /** airflow.cfg in the fresh AIRFLOW_HOME. */
  cfg?: string;
  /** More of secrets-sandbox.yaml (top-level sections after the ids), e.g. what the user said of Airflow. */
  config?: string;
  /** Before judging: commands run with the set-up's env and AIRFLOW_HOME (e.g. a metastore row). */
  airflowPrep?: string[][];
}

export interface SetUp {
  name: string;
  majors: Major[];
  /** Which ids the set-up's secrets-sandbox.yaml lists. */
  ids: 'conn' | 'var' | 'both';
  /** Seed the default secrets (conn_uri under secret/connections, value under secret/variables). */
  seed?: boolean;
  build(h: Harness): Promise<Built>;
  /** When Airflow fails: the link doctor must name. */
  link?: Link;
  /** The fix doctor gives is followed, and doctor (with Airflow) must then pass. */
  fix?: true;
}

export const defaultKwargs = (h: Harness, token: string): Record<string, unknown> => ({
  connections_path: 'connections',
  variables_path: 'variables',
  mount_point: 'secret',
  kv_engine_version: 2,
  url: h.url,
  token,
});

export async function tokenWith(h: Harness, name: string, policy: string): Promise<string> {
  await h.bao(['policy', 'write', name, '-'], policy);
  return (await h.bao(['token', 'create', `-policy=${name}`, '-field=token'])).trim();
}

export async function approle(h: Harness, name: string, policy: string): Promise<{ roleId: string; secretId: string }> {
  await h.bao(['policy', 'write', name, '-'], policy);
  await h.bao(['write', `auth/approle/role/${name}`, `token_policies=${name}`]);
  const roleId = (await h.bao(['read', '-field=role_id', `auth/approle/role/${name}/role-id`])).trim();
  const secretId = (await h.bao(['write', '-f', '-field=secret_id', `auth/approle/role/${name}/secret-id`])).trim();
  return { roleId, secretId };
}

export const READ_ALL =
  'path "secret/data/connections/*" { capabilities = ["read"] }\npath "secret/data/variables/*" { capabilities = ["read"] }\n';

export const SETUPS: SetUp[] = [
  // Working set-ups, several of which the old doctor failed.
  { name: 'the sandbox as written: root token, conn_uri', majors: ['3', '2'], ids: 'both', build: async () => ({}) },
  {
    name: 'mount_point "secret/" (hvac joins the slash)',
    majors: ['3', '2'],
    ids: 'conn',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), mount_point: 'secret/' } }),
  },
  {
    name: 'a secret stored under uri',
    majors: ['3'],
    ids: 'conn',
    seed: false,
    build: async (h) => {
      await h.bao(['kv', 'put', `secret/connections/${h.conn}`, 'uri=postgres://u:p@db:5432/app']);
      return {};
    },
  },
  {
    name: 'backend and kwargs in airflow.cfg, not the environment',
    majors: ['3', '2'],
    ids: 'conn',
    build: async (h) => ({
      kwargs: null,
      envFile: { AIRFLOW__SECRETS__BACKEND: null },
      cfg: `[secrets]\nbackend = ${PROVIDER}\nbackend_kwargs = ${JSON.stringify(defaultKwargs(h, h.root))}\n`,
    }),
  },
  {
    name: 'a least-privilege token that can read (KV v2 data/ paths)',
    majors: ['3', '2'],
    ids: 'both',
    build: async (h) => ({ kwargs: defaultKwargs(h, await tokenWith(h, `lp-${h.conn}`, READ_ALL)) }),
  },
  {
    name: 'token_path: the token in a file',
    majors: ['3'],
    ids: 'conn',
    build: async (h) => {
      const f = join(h.dir, 'token');
      writeFileSync(f, `${await tokenWith(h, `tp-${h.conn}`, READ_ALL)}\n`, { mode: 0o600 });
      const { token: _t, ...kw } = defaultKwargs(h, '');
      return { kwargs: { ...kw, token_path: f } };
    },
  },
  {
    name: 'AppRole with role_id and secret_id and a policy that reads',
    majors: ['3', '2'],
    ids: 'both',
    build: async (h) => {
      const { roleId, secretId } = await approle(h, `ar-${h.conn}`, READ_ALL);
      const { token: _t, ...kw } = defaultKwargs(h, '');
      return { kwargs: { ...kw, auth_type: 'approle', role_id: roleId, secret_id: secretId } };
    },
  },
  {
    name: 'fields format (conn_type, host, login, password, port)',
    majors: ['3'],
    ids: 'conn',
    seed: false,
    build: async (h) => {
      await h.bao([
        'kv',
        'put',
        `secret/connections/${h.conn}`,
        'conn_type=postgres',
        'host=db',
        'login=u',
        'password=p',
        'port=5432',
      ]);
      return {};
    },
  },
  {
    name: 'connections_path with a leading slash',
    majors: ['3'],
    ids: 'conn',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), connections_path: '/connections' } }),
  },
  {
    name: 'a KV v1 mount read with kv_engine_version 1',
    majors: ['3'],
    ids: 'conn',
    seed: false,
    build: async (h) => {
      await h.bao(['kv', 'put', `kv1/connections/${h.conn}`, 'conn_uri=postgres://u:p@db:5432/app']);
      return { kwargs: { ...defaultKwargs(h, h.root), mount_point: 'kv1', kv_engine_version: 1 } };
    },
  },
  {
    name: 'no url in the kwargs: VAULT_ADDR in the environment',
    majors: ['3'],
    ids: 'conn',
    build: async (h) => {
      const { url: _u, ...kw } = defaultKwargs(h, h.root);
      return { kwargs: kw, envFile: { VAULT_ADDR: h.url } };
    },
  },
  {
    name: 'no token in the kwargs: VAULT_TOKEN in the environment',
    majors: ['3'],
    ids: 'conn',
    build: async (h) => {
      const { token: _t, ...kw } = defaultKwargs(h, '');
      return { kwargs: kw, envFile: { VAULT_TOKEN: h.root } };
    },
  },
  {
    name: 'Vault misses but AIRFLOW_CONN_* answers',
    majors: ['3'],
    ids: 'conn',
    seed: false,
    build: async (h) => ({ shell: { [`AIRFLOW_CONN_${h.conn.toUpperCase()}`]: 'postgres://u:p@db:5432/app' } }),
  },
  {
    name: 'kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_CMD',
    majors: ['3'],
    ids: 'conn',
    build: async (h) => {
      const f = join(h.dir, 'kwargs.json');
      writeFileSync(f, JSON.stringify(defaultKwargs(h, h.root)), { mode: 0o600 });
      return { kwargs: null, shell: { AIRFLOW__SECRETS__BACKEND_KWARGS_CMD: `cat ${f}` } };
    },
  },
  // VaultBackend._parse_path: with mount_point null the id itself must carry the mount, so a bare id is never asked.
  {
    name: 'mount_point null, the mount in connections_path',
    majors: ['3'],
    ids: 'conn',
    link: 'mount and path',
    fix: true,
    build: async (h) => ({
      kwargs: { ...defaultKwargs(h, h.root), mount_point: null, connections_path: 'secret/connections' },
    }),
  },
  {
    name: 'a namespace that holds the secret',
    majors: ['3'],
    ids: 'conn',
    seed: false,
    build: async (h) => {
      await h.bao(['namespace', 'create', `ns${h.conn}`]).catch(() => '');
      await h.bao(['secrets', 'enable', '-namespace', `ns${h.conn}`, '-path=secret', 'kv-v2']).catch(() => '');
      await h.bao([
        'kv',
        'put',
        '-namespace',
        `ns${h.conn}`,
        `secret/connections/${h.conn}`,
        'conn_uri=postgres://u:p@db:5432/app',
      ]);
      return { kwargs: { ...defaultKwargs(h, h.root), namespace: `ns${h.conn}` } };
    },
  },
  {
    name: 'HTTP_PROXY set, NO_PROXY covers the loopback address',
    majors: ['3'],
    ids: 'conn',
    build: async () => ({ shell: { HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost' } }),
  },

  // Broken set-ups.
  {
    name: 'auth_type approle without role_id',
    majors: ['3', '2'],
    ids: 'conn',
    link: 'kwargs',
    build: async (h) => {
      const { token: _t, ...kw } = defaultKwargs(h, '');
      return { kwargs: { ...kw, auth_type: 'approle', secret_id: 'x' } };
    },
  },
  {
    name: 'AppRole with a wrong secret_id',
    majors: ['3'],
    ids: 'conn',
    link: 'auth',
    build: async (h) => {
      const { roleId } = await approle(h, `arw-${h.conn}`, READ_ALL);
      const { token: _t, ...kw } = defaultKwargs(h, '');
      return {
        kwargs: { ...kw, auth_type: 'approle', role_id: roleId, secret_id: '00000000-0000-0000-0000-000000000000' },
      };
    },
  },
  {
    name: 'a policy written for secret/connections/* (no data/ on KV v2)',
    fix: true,
    majors: ['3', '2'],
    ids: 'both',
    link: 'policy',
    build: async (h) => ({
      kwargs: defaultKwargs(
        h,
        await tokenWith(
          h,
          `old-${h.conn}`,
          'path "secret/connections/*" { capabilities = ["read"] }\npath "secret/variables/*" { capabilities = ["read"] }\n',
        ),
      ),
    }),
  },
  {
    name: 'a token the server does not know',
    majors: ['3'],
    ids: 'conn',
    link: 'auth',
    build: async (h) => ({ kwargs: defaultKwargs(h, 's.AAAAAAAAAAAAAAAAAAAAAAAA') }),
  },
  {
    name: 'connections_path null',
    fix: true,
    majors: ['3', '2'],
    ids: 'conn',
    link: 'mount and path',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), connections_path: null } }),
  },
  {
    name: 'variables_path null with a variable seeded',
    fix: true,
    majors: ['3', '2'],
    ids: 'var',
    link: 'mount and path',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), variables_path: null } }),
  },
  {
    name: 'a secret whose field names Airflow does not know',
    majors: ['3', '2'],
    ids: 'conn',
    seed: false,
    link: 'secret shape',
    build: async (h) => {
      await h.bao(['kv', 'put', `secret/connections/${h.conn}`, 'conn_type=postgres', 'hostname=db', 'user=u']);
      return {};
    },
  },
  {
    name: 'a variable stored without a value key',
    majors: ['3'],
    ids: 'var',
    seed: false,
    link: 'secret shape',
    build: async (h) => {
      await h.bao(['kv', 'put', `secret/variables/${h.var}`, 'val=hello']);
      return {};
    },
  },
  {
    name: 'mount_point where nothing is mounted',
    majors: ['3'],
    ids: 'conn',
    link: 'mount and path',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), mount_point: 'nothere' } }),
  },
  {
    name: 'kv_engine_version 1 on a KV v2 mount',
    fix: true,
    majors: ['3'],
    ids: 'conn',
    link: 'mount and path',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), kv_engine_version: 1 } }),
  },
  {
    name: 'kv_engine_version as the string "2"',
    fix: true,
    majors: ['3'],
    ids: 'conn',
    link: 'kwargs',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), kv_engine_version: '2' } }),
  },
  {
    name: 'the Airflow 1.10 class path on Airflow 3',
    fix: true,
    majors: ['3'],
    ids: 'conn',
    link: 'backend class',
    build: async () => ({ envFile: { AIRFLOW__SECRETS__BACKEND: CONTRIB } }),
  },
  // The same, in a sandbox whose config says which Airflow it is for: the emulation can tell.
  {
    name: 'the Airflow 1.10 class path on Airflow 3, the config saying 3',
    fix: true,
    majors: ['3'],
    ids: 'conn',
    link: 'backend class',
    build: async () => ({ envFile: { AIRFLOW__SECRETS__BACKEND: CONTRIB }, config: 'airflow:\n  version: "3"\n' }),
  },
  {
    name: 'no secrets backend configured',
    fix: true,
    majors: ['3'],
    ids: 'conn',
    link: 'backend class',
    build: async () => ({ envFile: { AIRFLOW__SECRETS__BACKEND: null } }),
  },
  {
    name: 'kwargs that are not JSON',
    majors: ['3'],
    ids: 'conn',
    link: 'kwargs',
    build: async (h) => ({ kwargs: `{url: ${h.url}}` }),
  },
  {
    name: 'an unknown kwarg (mountpoint)',
    fix: true,
    majors: ['3', '2'],
    ids: 'conn',
    link: 'kwargs',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), mountpoint: 'secret' } }),
  },
  {
    name: 'https against the plain-HTTP dev server',
    fix: true,
    majors: ['3'],
    ids: 'conn',
    link: 'address/TLS/proxy',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), url: h.url.replace('http:', 'https:') } }),
  },
  {
    name: 'a url where nothing listens',
    majors: ['3'],
    ids: 'conn',
    link: 'address/TLS/proxy',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), url: `http://127.0.0.1:${await freePort()}` } }),
  },
  {
    name: 'HTTP_PROXY set and NO_PROXY does not cover Vault',
    fix: true,
    majors: ['3'],
    ids: 'conn',
    link: 'address/TLS/proxy',
    build: async () => ({ shell: { HTTP_PROXY: 'http://127.0.0.1:9' } }),
  },
  {
    name: 'connections_path that holds nothing',
    majors: ['3'],
    ids: 'conn',
    link: 'mount and path',
    build: async (h) => ({ kwargs: { ...defaultKwargs(h, h.root), connections_path: 'conns' } }),
  },
  {
    name: 'no token anywhere (auth_type token)',
    majors: ['3'],
    ids: 'conn',
    link: 'kwargs',
    build: async (h) => {
      const { token: _t, ...kw } = defaultKwargs(h, '');
      return { kwargs: kw, envFile: { VAULT_TOKEN: null } };
    },
  },
  {
    name: 'a namespace that does not hold the secret',
    majors: ['3'],
    ids: 'conn',
    link: 'mount and path',
    build: async (h) => {
      await h.bao(['namespace', 'create', `empty${h.conn}`]).catch(() => '');
      return { kwargs: { ...defaultKwargs(h, h.root), namespace: `empty${h.conn}` } };
    },
  },
  {
    name: 'uri together with other fields',
    majors: ['3'],
    ids: 'conn',
    seed: false,
    link: 'secret shape',
    build: async (h) => {
      await h.bao(['kv', 'put', `secret/connections/${h.conn}`, 'uri=postgres://u:p@db:5432/app', 'host=other']);
      return {};
    },
  },
  {
    name: 'a port that is not a number',
    majors: ['2'],
    ids: 'conn',
    seed: false,
    link: 'secret shape',
    build: async (h) => {
      await h.bao(['kv', 'put', `secret/connections/${h.conn}`, 'conn_type=postgres', 'host=db', 'port=fivefour']);
      return {};
    },
  },
  {
    name: 'Vault misses, a metastore row answers',
    majors: ['2'],
    ids: 'conn',
    seed: false,
    build: async (h) => ({
      airflowPrep: [
        ['db', 'migrate'],
        ['connections', 'add', h.conn, '--conn-uri', 'postgres://u:p@db:5432/app'],
      ],
    }),
  },
];

/** One set-up on one major. `n` numbers it across the whole corpus (its ids are c<n> and v<n>). */
export interface Case {
  n: number;
  setup: SetUp;
  major: Major;
}

export const CASES: Case[] = SETUPS.flatMap((setup) => setup.majors.map((major) => ({ setup, major }))).map((c, i) => ({
  ...c,
  n: i + 1,
}));

/** How many doctor-corpus-<n>.airflow.test.ts files share the corpus. */
export const PARTS = 6;

/**
 * A case's rough cost in seconds on a quiet machine: doctor with Airflow (~4 s), one Airflow call
 * per id (~1.5 s each through the oracle), doctor with Airflow again for each fix followed (one
 * per broken id), and a few seconds more where Vault cannot be reached (hvac retries with back-off,
 * in Airflow and in doctor's probe alike).
 */
const cost = (c: Case): number => {
  const ids = c.setup.ids === 'both' ? 2 : 1;
  return 4 + 1.5 * ids + (c.setup.fix ? 4 * ids : 0) + (c.setup.link === 'address/TLS/proxy' ? 3 : 0);
};

/** The cases dealt out dearest first, each to the part with the least so far, so the files take about as long. */
const DEALT: Case[][] = (() => {
  const parts = Array.from({ length: PARTS }, () => ({ cases: [] as Case[], cost: 0 }));
  for (const c of [...CASES].sort((a, b) => cost(b) - cost(a) || a.n - b.n)) {
    const least = parts.reduce((m, p) => (p.cost < m.cost ? p : m));
    least.cases.push(c);
    least.cost += cost(c);
  }
  return parts.map((p) => p.cases.sort((a, b) => a.n - b.n));
})();

/** The cases of test/e2e/doctor-corpus-<part>.airflow.test.ts. */
export function casesOf(part: number): Case[] {
  return DEALT[part - 1] ?? [];
}

export const skipReason =
  missing('server binary', BIN) ??
  missing('Airflow 3 venv', join(AIRFLOW['3'], 'airflow')) ??
  missing('Airflow 2 venv', join(AIRFLOW['2'], 'airflow'));

export interface Corpus {
  w: Workspace;
  server: { url: string; token: string; pid: number };
  oracles: Partial<Record<Major, AirflowOracle>>;
}

/** A workspace; startCorpus fills in the rest, and stopCorpus stops whatever of it started. */
export function newCorpus(): Corpus {
  return { w: workspace(BIN), server: { url: '', token: '', pid: 0 }, oracles: {} };
}

/** An OpenBao dev server with AppRole and a KV v1 mount, and an Airflow oracle per major. */
export async function startCorpus(c: Corpus, majors: Major[]): Promise<void> {
  const { w } = c;
  // The oracles' imports and the server's start overlap: neither needs the other yet. All settle
  // before a failure is thrown, so stopCorpus finds everything that did start.
  const started = await Promise.allSettled([
    (async () => {
      c.server = await startManualServer(w, BIN!);
      const env = {
        ...w.env,
        VAULT_ADDR: c.server.url,
        VAULT_TOKEN: c.server.token,
        BAO_ADDR: c.server.url,
        BAO_TOKEN: c.server.token,
      };
      for (const args of [
        ['auth', 'enable', 'approle'],
        ['secrets', 'enable', '-path=kv1', '-version=1', 'kv'],
      ]) {
        const r = await runProcess(BIN!, args, { env });
        expect(r.code, r.stderr).toBe(0);
      }
    })(),
    ...[...new Set(majors)].map(async (major) => {
      c.oracles[major] = await AirflowOracle.start(AIRFLOW[major], {
        env: { ...w.env, PATH: airflowPath(w, major) },
        cwd: w.root,
      });
    }),
  ]);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
}

/** Stops what startCorpus started and requires that nothing is left running under the workspace. */
export async function stopCorpus(c: Corpus | undefined): Promise<void> {
  if (!c) return;
  for (const o of Object.values(c.oracles)) await o.close();
  if (c.server.pid) await killAndWait(c.server.pid);
  // Whatever is left is killed before the check fails, so a failure leaves nothing behind either.
  const left = processesUnder(c.w.root);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  expect(cleanup(c.w), 'a server process was left running').toEqual([]);
  expect(left, 'a process was left running').toEqual([]);
}

const airflowPath = (w: Workspace, major: Major): string => `${AIRFLOW[major]}${delimiter}${w.env.PATH}`;

/**
 * Deletes the secrets earlier set-ups left on the shared server. Doctor lists and checks every
 * secret under a path when secrets-sandbox.yaml names none of that kind, so another set-up's
 * malformed variable would fail this one's emulation: its verdict would depend on which set-ups
 * ran before it in the same file (it did: "the 1.10 class path" agreed only after "a variable
 * stored without a value key").
 */
async function forgetOtherSecrets(server: Corpus['server']): Promise<void> {
  const call = (method: string, path: string): Promise<Response> =>
    fetch(`${server.url}/v1/${path}`, { method, headers: { 'X-Vault-Token': server.token } });
  for (const [mount, dir, v2] of [
    ['secret', 'connections', true],
    ['secret', 'variables', true],
    ['kv1', 'connections', false],
  ] as const) {
    const list = await call('LIST', v2 ? `${mount}/metadata/${dir}` : `${mount}/${dir}`);
    if (list.status === 404) continue;
    expect(list.status, `LIST ${mount}/${dir}`).toBe(200);
    const keys = ((await list.json()) as { data: { keys: string[] } }).data.keys;
    for (const key of keys) {
      const del = await call('DELETE', v2 ? `${mount}/metadata/${dir}/${key}` : `${mount}/${dir}/${key}`);
      expect(del.status, `DELETE ${mount}/${dir}/${key}`).toBe(204);
    }
  }
}

/** A set-up built and written to disk, ready to be judged. */
export interface Prepared {
  dir: string;
  /** The fresh AIRFLOW_HOME (with the set-up's airflow.cfg, if any). */
  home: string;
  h: Harness;
  ids: { conn: boolean; var: boolean };
  /** The user's shell: both Airflow and doctor get it. */
  shell: Record<string, string>;
  /** The environment Airflow runs with: the shell, the set-up's .env exported, Airflow on PATH. */
  airflowEnv: NodeJS.ProcessEnv;
  withAirflowPath: string;
  /** Commands run before judging (e.g. a metastore row). */
  airflowPrep: string[][];
  /** The CLI calls whose exit codes are Airflow's verdict: one per listed id. */
  judgeCalls: string[][];
}

/** Seeds the set-up's secrets on the server and writes its .env, secrets-sandbox.yaml and airflow.cfg. */
export async function prepare(c: Corpus, k: Case): Promise<Prepared> {
  const { w, server } = c;
  const s = k.setup;
  const i = k.n;
  const dir = mkdtempSync(join(w.root, `setup-${i}-`));
  const home = join(dir, 'airflow-home');
  mkdirSync(home);
  const h: Harness = {
    url: server.url,
    root: server.token,
    dir,
    conn: `c${i}`,
    var: `v${i}`,
    bao: async (args, input) => {
      const r = await runProcess(BIN!, args, {
        env: { ...w.env, VAULT_ADDR: server.url, VAULT_TOKEN: server.token },
        input,
      });
      if (r.code !== 0) throw new Error(`bao ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
  };
  await forgetOtherSecrets(server);
  if (s.seed !== false) {
    await h.bao(['kv', 'put', `secret/connections/${h.conn}`, `conn_uri=postgres://u:p@db:5432/app${i}`]);
    await h.bao(['kv', 'put', `secret/variables/${h.var}`, `value=val${i}`]);
  }
  const b = await s.build(h);
  const envFile: Record<string, string | null> = {
    AIRFLOW__SECRETS__BACKEND: PROVIDER,
    VAULT_ADDR: h.url,
    ...b.envFile,
  };
  const kw = b.kwargs === undefined ? defaultKwargs(h, h.root) : b.kwargs;
  if (kw !== null) envFile.AIRFLOW__SECRETS__BACKEND_KWARGS = typeof kw === 'string' ? kw : JSON.stringify(kw);
  const set = Object.fromEntries(Object.entries(envFile).filter((e): e is [string, string] => e[1] !== null));
  writeFileSync(
    join(dir, '.env'),
    Object.entries(set)
      .map(([key, v]) => `${key}='${v.replace(/'/g, `'\\''`)}'`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  const ids = { conn: s.ids !== 'var', var: s.ids !== 'conn' };
  writeFileSync(
    join(dir, 'secrets-sandbox.yaml'),
    `version: 1\n${ids.conn ? `connections:\n  ${h.conn}: postgres://u:p@db:5432/app${i}\n` : ''}${ids.var ? `variables:\n  ${h.var}: val${i}\n` : ''}${b.config ?? ''}`,
    { mode: 0o600 },
  );
  if (b.cfg) writeFileSync(join(home, 'airflow.cfg'), b.cfg);
  const shell = { ...(b.shell ?? {}), AIRFLOW_HOME: home };
  const withAirflowPath = airflowPath(w, k.major);
  const judgeCalls: string[][] = [];
  if (ids.conn) judgeCalls.push(['connections', 'get', h.conn, '-o', 'json']);
  if (ids.var) judgeCalls.push(['variables', 'get', h.var]);
  return {
    dir,
    home,
    h,
    ids,
    shell,
    airflowEnv: { ...w.env, ...set, ...shell, PATH: withAirflowPath },
    withAirflowPath,
    airflowPrep: b.airflowPrep ?? [],
    judgeCalls,
  };
}

interface DoctorJson {
  ok: boolean;
  verdict: 'airflow' | 'emulation';
  checks: { id: string; status: string; detail: string; fix?: string; link?: Link; explainedBy?: string }[];
}

export interface Row {
  case: Case;
  airflowOk: boolean;
  airflowSaid: string;
  withAirflow: { code: number; link?: Link; verdict: string };
  without: { code: number; failing: string[] };
}

/** Where a file's time went, summed over its cases (ms). */
export interface Timing {
  prepare: number;
  airflow: number;
  doctorWith: number;
  doctorWithout: number;
  fixes: number;
}

async function timed<T>(t: Timing, key: keyof Timing, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    t[key] += performance.now() - t0;
  }
}

/** One case: Airflow's verdict, doctor's with Airflow (must agree) and without (recorded), then the fixes. */
export async function judge(c: Corpus, k: Case, rows: Row[], t: Timing): Promise<void> {
  const { w, server } = c;
  const s = k.setup;
  const oracle = c.oracles[k.major]!;
  const p = await timed(t, 'prepare', () => prepare(c, k));
  const { dir, shell, withAirflowPath } = p;

  // Airflow's verdict: every listed id through its own CLI. Doctor runs after it, as before the
  // split: Airflow may write a default airflow.cfg into AIRFLOW_HOME, which doctor reads.
  const judged = await timed(t, 'airflow', async () => {
    for (const args of p.airflowPrep) {
      const r = await oracle.run(args, { env: p.airflowEnv, cwd: dir, timeoutMs: scaled(200_000) });
      expect(r.code, r.stderr.slice(-1500)).toBe(0);
    }
    const out: Run[] = [];
    for (const args of p.judgeCalls)
      out.push(await oracle.run(args, { env: p.airflowEnv, cwd: dir, timeoutMs: scaled(120_000) }));
    return out;
  });
  const airflowOk = judged.every((r) => r.code === 0);
  const airflowSaid = judged.map((r) => lastLine(r.stderr).slice(0, 200)).join(' | ');

  const withA = await timed(t, 'doctorWith', () =>
    runCli(w, ['doctor', dir, '--json'], { env: { ...shell, PATH: withAirflowPath }, timeoutMs: scaled(120_000) }),
  );
  const without = await timed(t, 'doctorWithout', () =>
    runCli(w, ['doctor', dir, '--json'], { env: { ...shell }, timeoutMs: scaled(60_000) }),
  );
  const dA = readJson<DoctorJson>(withA.stdout);
  const dN = readJson<DoctorJson>(without.stdout);
  const verdict = dA.checks.find((x) => x.id === 'airflow-verdict')!;
  const explaining = dA.checks.find((x) => x.id === verdict.explainedBy);
  rows.push({
    case: k,
    airflowOk,
    airflowSaid,
    withAirflow: { code: withA.code, link: explaining?.link, verdict: verdict.detail },
    without: {
      code: without.code,
      failing: dN.checks.filter((x) => x.status === 'fail' || x.status === 'crash').map((x) => x.id),
    },
  });

  // The set-up is what it says it is (Airflow judged it so), and doctor with Airflow agrees.
  expect(airflowOk, `Airflow: ${airflowSaid}`).toBe(s.link === undefined);
  expect(dA.verdict).toBe('airflow');
  expect(withA.code, verdict.detail).toBe(airflowOk ? 0 : 1);
  if (!airflowOk) expect(explaining?.link, verdict.detail).toBe(s.link);
  // Without Airflow doctor says its verdict is an emulation.
  expect(dN.verdict).toBe('emulation');

  if (s.fix) {
    await timed(t, 'fixes', async () => {
      // Follow each fix doctor gives (one per broken link: a set-up may break connections and variables alike) until Airflow resolves all.
      let fixShell: Record<string, string> = { ...shell };
      let current = verdict;
      const followed: string[] = [];
      for (let round = 0; round < 3; round++) {
        expect(current.fix, current.detail).toBeTruthy();
        expect(followed, 'the same fix twice: it did not work').not.toContain(current.fix);
        followed.push(current.fix!);
        fixShell = await applyFix(current.fix!, fixShell, {
          ...w.env,
          VAULT_ADDR: server.url,
          VAULT_TOKEN: server.token,
        });
        const again = await runCli(w, ['doctor', dir, '--json'], {
          env: { ...fixShell, PATH: withAirflowPath },
          timeoutMs: scaled(120_000),
        });
        current = readJson<DoctorJson>(again.stdout).checks.find((x) => x.id === 'airflow-verdict')!;
        if (again.code === 0) break;
      }
      expect(current.status, `after ${followed.map((f) => `"${f}"`).join(', ')}: ${current.detail}`).not.toBe('fail');
    });
  }
}

export const lastLine = (text: string): string => text.trim().split('\n').slice(-1)[0] ?? '';

/** The lines a file prints: its agreement counts, each disagreement without Airflow, and where the time went. */
export function report(part: number, rows: Row[], t: Timing, oracles: AirflowOracle[]): string {
  const agreeWith = rows.filter((r) => (r.withAirflow.code === 0) === r.airflowOk).length;
  const broken = rows.filter((r) => !r.airflowOk);
  const linked = broken.filter((r) => r.withAirflow.link === r.case.setup.link).length;
  const agreeWithout = rows.filter((r) => (r.without.code === 0) === r.airflowOk).length;
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const calls = oracles.reduce((a, o) => a + o.calls, 0);
  const callMs = oracles.reduce((a, o) => a + o.callMs, 0);
  return [
    `corpus part ${part}/${PARTS}: ${rows.length} set-ups; with Airflow ${agreeWith}/${rows.length} agree, failing link ${linked}/${broken.length}; without Airflow ${agreeWithout}/${rows.length} agree`,
    ...rows
      .filter((r) => (r.without.code === 0) !== r.airflowOk)
      .map(
        (r) =>
          `  without Airflow disagrees: [${r.case.major}] ${r.case.setup.name}: Airflow ${r.airflowOk ? 'resolves' : 'fails'}, doctor exit ${r.without.code} (${r.without.failing.join(', ') || 'no failing check'})`,
      ),
    ...oracles
      .filter((o) => o.info.failed.length > 0)
      .map(
        (o) => `  Airflow ${o.info.major} oracle did not preload (slower, still faithful): ${o.info.failed.join('; ')}`,
      ),
    `  time: set-up ${s(t.prepare)}, Airflow ${s(t.airflow)} (${calls} oracle calls, ${calls ? Math.round(callMs / calls) : 0} ms each), doctor with Airflow ${s(t.doctorWith)}, without ${s(t.doctorWithout)}, fixes ${s(t.fixes)}`,
  ].join('\n');
}

/** The body of test/e2e/doctor-corpus-<part>.airflow.test.ts. */
export function corpusFile(part: number): void {
  const cases = casesOf(part);
  describe.skipIf(skipReason)(`differential corpus, part ${part} of ${PARTS}: doctor against real Airflow`, () => {
    let c: Corpus | undefined;
    const rows: Row[] = [];
    const t: Timing = { prepare: 0, airflow: 0, doctorWith: 0, doctorWithout: 0, fixes: 0 };

    beforeAll(async () => {
      c = newCorpus();
      await startCorpus(
        c,
        cases.map((k) => k.major),
      );
    });

    afterAll(async () => {
      console.log(report(part, rows, t, Object.values(c?.oracles ?? {})));
      await stopCorpus(c);
    });

    for (const k of cases) it(`[Airflow ${k.major}] ${k.setup.name}`, () => judge(c!, k, rows, t));
  });
}

/**
 * Follows a fix line the way a user would: an edit of the kwargs key by key, an edit of a .env line,
 * an export or unset in the shell, or else a shell command. Returns the shell env afterwards.
 */
export async function applyFix(
  fix: string,
  shell: Record<string, string>,
  cmdEnv: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  const kw = /^in (\S+), AIRFLOW__SECRETS__BACKEND_KWARGS: (.*)$/.exec(fix);
  if (kw) {
    const file = kw[1]!;
    const text = readFileSync(file, 'utf8');
    const line = /^AIRFLOW__SECRETS__BACKEND_KWARGS='(.*)'$/m.exec(text)!;
    const obj = JSON.parse(line[1]!.replace(/'\\''/g, "'")) as Record<string, unknown>;
    for (const op of kw[2]!.split('; ')) {
      const set = /^set "([^"]+)": (.*)$/.exec(op);
      const rm = /^remove "([^"]+)"$/.exec(op);
      if (set) obj[set[1]!] = JSON.parse(set[2]!);
      else if (rm) delete obj[rm[1]!];
      else throw new Error(`cannot follow "${op}"`);
    }
    writeFileSync(file, text.replace(line[0], `AIRFLOW__SECRETS__BACKEND_KWARGS='${JSON.stringify(obj)}'`));
    return shell;
  }
  const edit = /^edit (\S+): (\w+)='(.*)'$/.exec(fix);
  if (edit) {
    const [, file, key, value] = edit;
    const text = readFileSync(file!, 'utf8');
    const re = new RegExp(`^${key}=.*$`, 'm');
    writeFileSync(file!, re.test(text) ? text.replace(re, `${key}='${value}'`) : `${text}${key}='${value}'\n`);
    return shell;
  }
  const exp = /^export (\w+)=("?)(.*)\2(?: \(.*\).*)?$/.exec(fix);
  if (exp) return { ...shell, [exp[1]!]: exp[3]!, [exp[1]!.toLowerCase()]: exp[3]! };
  const unset = /^unset (.+)$/.exec(fix);
  if (unset) {
    const out = { ...shell };
    for (const k of unset[1]!.split(/\s+/)) delete out[k];
    return out;
  }
  const r = await runProcess('bash', ['-c', fix], { env: cmdEnv });
  if (r.code !== 0) throw new Error(`fix "${fix}" failed: ${r.stderr}`);
  return shell;
}
