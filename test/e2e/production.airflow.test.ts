/**
 * Issue 11 with real Airflow 3 and 2.11: an AppRole sandbox over TLS resolves every connection and
 * variable through Airflow and the example DAG, and Airflow really verifies the certificate: the
 * provider's own VaultBackend, given another CA (or none), refuses the server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary, scaled } from '../support/env.js';
import { freePort, readJson, runCli, runProcess, workspaces } from '../support/sandbox.js';
import { startDevServer, type TestServer } from '../support/dev-tls.js';
import { parseEnvFile } from '../../src/airflow/backend/index.js';

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

describe.skipIf(skipReason)('AppRole over TLS with real Airflow', () => {
  let otherCa: TestServer;
  beforeAll(async () => {
    otherCa = await startDevServer(BIN!, { tls: true });
  });
  afterAll(async () => otherCa?.stop());

  it.each(AIRFLOWS)(
    'Airflow %s: --auth approle --tls --check dag passes, and the provider refuses a CA that did not sign the certificate',
    async (_v, bin) => {
      const w = ws();
      const port = await freePort();
      const r = await runCli(
        w,
        [
          'sb',
          '--yes',
          '--json',
          '--auth',
          'approle',
          '--tls',
          '--address',
          `127.0.0.1:${port}`,
          '--conn',
          'pg=postgres://u:p@db:5432/app',
          '--var',
          'team=data',
          '--check',
          'dag',
          '--airflow-bin',
          join(bin, 'airflow'),
        ],
        { timeoutMs: scaled(400_000) },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = readJson<{ airflow_checks: { id: string; kind: string; ok: boolean }[] }>(r.stdout);
      expect(
        out.airflow_checks
          .filter((c) => c.ok)
          .map((c) => `${c.kind}:${c.id}`)
          .sort(),
      ).toEqual(['connection:pg', 'dag:example_secrets_dag', 'variable:team']);

      const env = parseEnvFile(readFileSync(join(w.cwd, 'sb', '.env'), 'utf8'));
      const kw = JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!) as Record<string, unknown>;
      expect(kw).toMatchObject({ auth_type: 'approle', url: `https://127.0.0.1:${port}` });
      const probe = async (kwargs: Record<string, unknown>) => {
        const p = await runProcess(join(bin, 'python'), ['-c', PROBE], {
          env: { PATH: process.env.PATH, HOME: w.home, KW: JSON.stringify(kwargs), AIRFLOW_HOME: join(w.root, 'ah') },
          timeoutMs: scaled(120_000),
        });
        return /RESULT (\S+)/.exec(p.stdout)?.[1] ?? `no result: ${p.stderr.slice(-500)}`;
      };
      expect(await probe(kw)).toBe('ok');
      expect(await probe({ ...kw, verify: otherCa.caFile })).toBe('SSLError');
      const { verify: _dropped, ...noCa } = kw;
      expect(await probe(noCa)).toBe('SSLError');
      expect((await runCli(w, ['down', 'sb'])).code).toBe(0);
    },
    scaled(600_000),
  );
});
