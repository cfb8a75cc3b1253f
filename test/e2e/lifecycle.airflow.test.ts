/**
 * Issue 12 with real Airflow 3: the `--airflow-bin` a user named is remembered so `up` checks with
 * it again, and the printed next steps work when pasted into a shell, in order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary, scaled } from '../support/env.js';
import { freePort, readJson, runCli, runProcess, workspaces } from '../support/sandbox.js';

const BIN = serverBinary();
const AIRFLOW = join(ROOT, '.venvs', 'airflow3', 'bin', 'airflow');
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN) ?? missing('Airflow 3 venv', AIRFLOW);
const ws = workspaces(BIN);

describe.skipIf(skipReason)('issue 12 with real Airflow', () => {
  it(
    'remembers --airflow-bin for up, and the next steps work pasted in order',
    async () => {
      const w = ws();
      const port = await freePort();
      const first = await runCli(
        w,
        [
          '--yes',
          '--json',
          '--address',
          `127.0.0.1:${port}`,
          '--check',
          'airflow',
          '--airflow-bin',
          AIRFLOW,
          '--conn',
          'pg=postgres://u:p@db:5432/app',
        ],
        { timeoutMs: scaled(300_000) },
      );
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const dir = join(w.cwd, 'secrets-sandbox');
      const cfg = readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8');
      expect(cfg).toContain(`bin: ${AIRFLOW}`);
      expect(cfg).toContain('check: airflow');

      expect((await runCli(w, ['down'])).code).toBe(0);
      const up = await runCli(w, ['up', '--json'], { timeoutMs: scaled(300_000) });
      expect(up.code, up.stdout + up.stderr).toBe(0);
      const j = readJson<{ connections: { id: string; airflow: string }[]; next_steps: string[] }>(up.stdout);
      expect(j.connections).toEqual([expect.objectContaining({ id: 'pg', airflow: 'ok' })]);

      // Pasted in order, as printed: activate, load .env, a fresh AIRFLOW_HOME migrated, then ask Airflow.
      const lines = j.next_steps;
      expect(lines[0]).toMatch(/^\. .*\.venvs\/airflow3\/bin\/activate /);
      const script = ['set -e', ...lines.filter((l) => !l.startsWith('#'))].join('\n');
      const r = await runProcess('bash', ['-c', script], { cwd: w.cwd, env: w.env, timeoutMs: scaled(600_000) });
      expect(r.code, (r.stdout + r.stderr).slice(-3000)).toBe(0);
      // `connections get pg` answered from Vault, the DAG run succeeded, and status/down (as printed) worked.
      expect(r.stdout).toContain('postgres');
      expect(r.stdout + r.stderr).toMatch(/DagRun Finished: dag_id=example_secrets_dag.*state=success/);
      expect(r.stdout).toContain('stopped the sandbox server');
      // The env keeps Airflow's own ~90 example DAGs out: reserialize never imports them (no kubernetes
      // traceback), and the DAG list is the sandbox's DAG alone.
      expect(r.stdout + r.stderr).not.toMatch(/ModuleNotFoundError|example_bash_operator/);
      const env = lines.find((l) => l.startsWith('set -a;'));
      const home = lines.find((l) => l.startsWith('export AIRFLOW_HOME='))?.split(';')[0];
      const list = await runProcess(
        'bash',
        ['-c', ['set -e', lines[0], env, home, 'airflow dags list -o plain'].join('\n')],
        { cwd: w.cwd, env: w.env, timeoutMs: scaled(300_000) },
      );
      expect(list.code, (list.stdout + list.stderr).slice(-3000)).toBe(0);
      // The table starts at its dag_id header: Airflow may print notes before it.
      const rows = list.stdout.split('\n');
      const header = rows.findIndex((l) => /^\s*dag_id\b/.test(l));
      expect(header, list.stdout).toBeGreaterThanOrEqual(0);
      const dagIds = rows
        .slice(header + 1)
        .map((l) => l.trim().split(/\s+/)[0])
        .filter(Boolean);
      expect(dagIds).toEqual(['example_secrets_dag']);
    },
    scaled(900_000),
  );
});
