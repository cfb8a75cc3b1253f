/**
 * --auth userpass with real Airflow 3 and 2.11: the sandbox server's userpass user, bound to the
 * read-only policy, is how Airflow logs in; Airflow resolves every connection and variable from
 * Vault; the provider's own VaultBackend refuses a wrong password; the password is masked in every
 * output and lives only in the 0600 env files; a rerun keeps it; doctor logs in the same way.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/airflow/backend/index.js';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { freePort, readJson, runCli, runProcess, workspaces } from '../support/sandbox.js';

const BIN = serverBinary();
const AIRFLOWS = [
  ['3', join(ROOT, '.venvs', 'airflow3', 'bin')],
  ['2.11', join(ROOT, '.venvs', 'airflow2', 'bin')],
] as const;
const skipReason =
  missing('server binary (bao or VAULT_BIN)', BIN) ??
  AIRFLOWS.map(([v, b]) => missing(`Airflow ${v} venv`, join(b, 'airflow'))).find(Boolean);
const ws = workspaces(BIN);

// The provider's VaultBackend itself, with the kwargs Airflow would get (KW), asked for one connection.
const PROBE = `
import json, os
from airflow.providers.hashicorp.secrets.vault import VaultBackend
b = VaultBackend(**json.loads(os.environ["KW"]))
try:
    c = b.get_connection("pg")
    print("RESULT", "ok" if c is not None and c.host == "db" else "missing")
except Exception as e:
    print("RESULT", type(e).__name__)
`;

describe.skipIf(skipReason)('--auth userpass with real Airflow', () => {
  it.each(AIRFLOWS)(
    'Airflow %s: resolves every connection and variable through a userpass login; the password stays in the env files',
    async (_v, bin) => {
      const w = ws();
      const port = await freePort();
      const args = ['sb', '--yes', '--auth', 'userpass', '--address', `127.0.0.1:${port}`];
      const conns = ['--conn', 'pg=postgres://u:p@db:5432/app', '--var', 'team=data'];
      const check = ['--check', 'airflow', '--airflow-bin', join(bin, 'airflow')];
      const r = await runCli(w, [...args, ...conns, ...check, '--json'], { timeoutMs: scaled(300_000) });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = readJson<{
        vault: Record<string, unknown>;
        airflow_checks: { id: string; kind: string; ok: boolean }[];
      }>(r.stdout);
      expect(out.vault).toMatchObject({ auth: 'userpass', policy: 'airflow-secrets-read', user: 'airflow' });
      const resolved = out.airflow_checks.filter((c) => c.ok).map((c) => `${c.kind}:${c.id}`);
      expect(resolved.sort()).toEqual(['connection:pg', 'variable:team']);

      const dir = join(w.cwd, 'sb');
      const envText = readFileSync(join(dir, '.env'), 'utf8');
      const env = parseEnvFile(envText);
      const kw = JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS') ?? '{}') as Record<string, unknown>;
      expect(kw).toMatchObject({ auth_type: 'userpass', username: 'airflow', url: `http://127.0.0.1:${port}` });
      const password = String(kw.password);
      expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      // The root token is not Airflow's; the password is in the 0600 env files only, and in no output.
      expect(env.has('VAULT_TOKEN')).toBe(false);
      expect(kw.token).toBeUndefined();
      for (const f of ['.env', 'docker.env']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
      expect(r.stdout + r.stderr).not.toContain(password);
      expect(readFileSync(join(dir, 'policy.hcl'), 'utf8')).toContain('path "secret/data/connections/*"');

      const probe = async (kwargs: Record<string, unknown>) => {
        const p = await runProcess(join(bin, 'python'), ['-c', PROBE], {
          env: { PATH: process.env.PATH, HOME: w.home, KW: JSON.stringify(kwargs), AIRFLOW_HOME: join(w.root, 'ah') },
          timeoutMs: scaled(120_000),
        });
        return /RESULT (\S+)/.exec(p.stdout)?.[1] ?? `no result: ${p.stderr.slice(-500)}`;
      };
      expect(await probe(kw)).toBe('ok');
      expect(await probe({ ...kw, password: 'not-the-password' })).not.toBe('ok');

      // A rerun changes nothing: the same password, the same .env.
      const again = await runCli(w, [...args, ...conns, '--check', 'vault']);
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envText);
      expect(again.stdout + again.stderr).not.toContain(password);

      const doctor = await runCli(w, ['doctor', 'sb', '--airflow-bin', join(bin, 'airflow')], {
        timeoutMs: scaled(180_000),
      });
      // Airflow's own login when doctor asked Airflow (read from its requests), else doctor's login as the provider's.
      expect(doctor.stdout).toMatch(/\[✓\] .*userpass login (at auth\/userpass )?works/);
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout + doctor.stderr).not.toContain(password);
      expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
    },
    scaled(600_000),
  );
});
