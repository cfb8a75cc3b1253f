/**
 * Real Airflow proves it: the sandbox's env and DAG, run by Airflow 3 and 2.11 from the project's
 * venvs, resolve every connection from Vault; a broken link is named, never "isn't defined".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary, scaled } from '../support/env.js';
import { cleanup, freePort, readJson, runCli, runProcess, workspace, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const AIRFLOW = { '3': join(ROOT, '.venvs', 'airflow3', 'bin'), '2': join(ROOT, '.venvs', 'airflow2', 'bin') } as const;
const spaces: Workspace[] = [];

afterEach(() => {
  for (const w of spaces.splice(0)) expect(cleanup(w), 'a server process was left running').toEqual([]);
});

/** A workspace with the given Airflow first on PATH, the way a user with Airflow installed has it. */
function ws(major: '3' | '2'): Workspace {
  const w = workspace(BIN);
  w.env.PATH = `${AIRFLOW[major]}${delimiter}${w.env.PATH}`;
  spaces.push(w);
  return w;
}

interface Summary {
  ok: boolean;
  airflow: { version: string; version_source: string; found: { version: string } | null };
  connections: { id: string; check: string; airflow: string }[];
  airflow_checks: { id: string; kind: string; ok: boolean; detail: string }[];
}

for (const major of ['3', '2'] as const) {
  const skipReason = missing('server binary', BIN) ?? missing(`Airflow ${major} venv`, join(AIRFLOW[major], 'airflow'));

  describe.skipIf(skipReason)(`with Airflow ${major === '3' ? '3.x' : '2.11'} on PATH`, () => {
    it('detects it, writes the env for it, and --check dag runs the example DAG to success', async () => {
      const w = ws(major);
      const run = await runCli(
        w,
        [
          '--yes',
          '--json',
          '--check',
          'dag',
          '--address',
          `127.0.0.1:${await freePort()}`,
          '--conn',
          'pg=postgres://u:p%40ss@db:5432/app?sslmode=require',
          '--var',
          'env=dev',
        ],
        { timeoutMs: scaled(240_000) },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const s = readJson<Summary>(run.stdout);
      expect(s.airflow.version).toBe(major);
      expect(s.airflow.version_source).toBe('detected');
      expect(s.connections.map((c) => [c.id, c.check, c.airflow])).toEqual([['pg', 'ok', 'ok']]);
      expect(s.airflow_checks.filter((c) => c.kind === 'variable').map((c) => c.id)).toEqual(['env']);
      const dag = s.airflow_checks.find((c) => c.kind === 'dag');
      expect(dag?.ok).toBe(true);
      expect(dag?.detail).toContain('state=success; 1 connection(s) resolved');
      await runCli(w, ['down']);
    }, 300_000); // db migrate + dags test: over a minute on a loaded machine

    it('--format fields resolves through Airflow too', async () => {
      const w = ws(major);
      const run = await runCli(w, [
        '--yes',
        '--json',
        '--check',
        'airflow',
        '--format',
        'fields',
        '--address',
        `127.0.0.1:${await freePort()}`,
        '--conn',
        'my_http=https://api:t0k%2Fen@api.example.com:8443/v1?timeout=30&verify=true',
      ]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(readJson<Summary>(run.stdout).connections[0]).toMatchObject({ id: 'my_http', airflow: 'ok' });
      // Stored as separate fields, not a conn_uri.
      const env = readFileSync(join(w.cwd, 'secrets-sandbox', '.env'), 'utf8');
      const token = /VAULT_TOKEN='([^']+)'/.exec(env)![1]!;
      const url = /VAULT_ADDR='([^']+)'/.exec(env)![1]!;
      const body = (await (
        await fetch(`${url}/v1/secret/data/connections/my_http`, { headers: { 'X-Vault-Token': token } })
      ).json()) as { data: { data: Record<string, unknown> } };
      expect(body.data.data).toMatchObject({
        conn_type: 'https',
        host: 'api.example.com',
        login: 'api',
        password: 't0k/en',
        port: 8443,
        schema: 'v1',
      });
      expect(body.data.data).not.toHaveProperty('conn_uri');
      await runCli(w, ['down']);
    });

    it('a wrong token in .env: --check airflow names the token, not "isn\'t defined"', async () => {
      const w = ws(major);
      const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`];
      expect((await runCli(w, [...args, '--check', 'vault'])).code).toBe(0);
      const f = join(w.cwd, 'secrets-sandbox', '.env');
      writeFileSync(f, readFileSync(f, 'utf8').replace(/(s|hvs)\.[A-Za-z0-9]+/g, 's.WrongWrongWrongWrongWrong'));
      const run = await runCli(w, [...args, '--check', 'airflow']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/token/);
      expect(run.stderr).not.toMatch(/isn't defined/);
      await runCli(w, ['down']);
    });

    it('a wrong connections_path that only Airflow sees: the miss is explained by the broken link', async () => {
      const w = ws(major);
      const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`];
      expect((await runCli(w, [...args, '--check', 'vault'])).code).toBe(0);
      const f = join(w.cwd, 'secrets-sandbox', '.env');
      // Break only what Airflow reads; the user's own edit is kept, so Airflow sees the broken value.
      writeFileSync(
        f,
        readFileSync(f, 'utf8').replace('"connections_path":"connections"', '"connections_path":"conns"'),
      );
      const run = await runCli(w, [...args, '--check', 'airflow']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('secret/conns/smtp_default');
      expect(run.stderr).not.toMatch(/isn't defined/);
      await runCli(w, ['down']);
    });

    // Airflow 2 still maps the 1.10 path to the provider (doctor warns there); Airflow 3 cannot import it.
    if (major === '3')
      it('a class path Airflow cannot use: the Vault read works, Airflow misses, and the step says why', async () => {
        const w = ws(major);
        const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`];
        expect((await runCli(w, [...args, '--check', 'vault'])).code).toBe(0);
        const f = join(w.cwd, 'secrets-sandbox', '.env');
        writeFileSync(
          f,
          readFileSync(f, 'utf8').replace(
            'airflow.providers.hashicorp.secrets.vault.VaultBackend',
            'airflow.contrib.secrets.hashicorp_vault.VaultBackend',
          ),
        );
        const run = await runCli(w, [...args, '--check', 'airflow'], { timeoutMs: scaled(120_000) });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("Airflow did not resolve 'smtp_default'");
        expect(run.stderr).toContain('AIRFLOW__SECRETS__BACKEND');
        expect(run.stderr).toContain('1.10 class path');
        expect(run.stderr).not.toMatch(/isn't defined/);
        await runCli(w, ['down']);
      });

    it('the example DAG never prints the password', async () => {
      const w = ws(major);
      const password = 'Sup3r-Secret-Pw';
      expect(
        (
          await runCli(w, [
            '--yes',
            '--address',
            `127.0.0.1:${await freePort()}`,
            '--conn',
            `db=postgres://u:${password}@db:5432/app`,
            '--check',
            'vault',
          ])
        ).code,
      ).toBe(0);
      const dir = join(w.cwd, 'secrets-sandbox');
      const env: NodeJS.ProcessEnv = { ...w.env, AIRFLOW_HOME: join(w.root, 'afhome') };
      for (const line of readFileSync(join(dir, '.env'), 'utf8').split('\n')) {
        const m = line.match(/^([A-Z_]+)='(.*)'$/);
        if (m) env[m[1]!] = m[2]!;
      }
      const airflow = join(AIRFLOW[major], 'airflow');
      expect((await runProcess(airflow, ['db', 'migrate'], { env, cwd: w.cwd })).code).toBe(0);
      if (major === '3') expect((await runProcess(airflow, ['dags', 'reserialize'], { env, cwd: w.cwd })).code).toBe(0);
      const t = await runProcess(airflow, ['dags', 'test', 'example_secrets_dag'], {
        env,
        cwd: w.cwd,
        timeoutMs: scaled(240_000),
      });
      expect(t.code, t.stderr.slice(-2000)).toBe(0);
      expect(t.stdout + t.stderr).toContain("Resolved 'db' from VaultBackend");
      expect(t.stdout + t.stderr).not.toContain(password);
      await runCli(w, ['down']);
    });
  });
}

describe.skipIf(missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW['3'], 'airflow')))(
  'doctor with Airflow 3',
  () => {
    it('flags the Airflow 1.10 class path, which Airflow 3 cannot import', async () => {
      const w = ws('3');
      expect((await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`, '--check', 'vault'])).code).toBe(
        0,
      );
      const f = join(w.cwd, 'secrets-sandbox', '.env');
      writeFileSync(
        f,
        readFileSync(f, 'utf8').replace(
          'airflow.providers.hashicorp.secrets.vault.VaultBackend',
          'airflow.contrib.secrets.hashicorp_vault.VaultBackend',
        ),
      );
      const d = await runCli(w, ['doctor', '--json']);
      expect(d.code).toBe(1);
      const c = readJson<{ checks: { id: string; status: string; detail: string; fix: string }[] }>(
        d.stdout,
      ).checks.find((x) => x.id === 'backend-class')!;
      expect(c.status).toBe('fail');
      expect(c.detail).toContain('1.10 class path');
      expect(c.fix).toContain('airflow.providers.hashicorp.secrets.vault.VaultBackend');
      const a = readJson<{ checks: { id: string; status: string; detail: string }[] }>(d.stdout).checks.find(
        (x) => x.id === 'airflow',
      )!;
      expect(a.status).toBe('ok');
      expect(a.detail).toMatch(/Airflow 3\.\d+\.\d+.*hashicorp provider 4\./);
      await runCli(w, ['down']);
    });
  },
);
