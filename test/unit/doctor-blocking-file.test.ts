/**
 * A kwargs file Airflow's Vault client would open and wait on (a FIFO as token_path): doctor does
 * not ask Airflow, and says why, instead of hanging until the probe's timeout.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AirflowInstall } from '../../src/airflow/runner.js';
import { buildDoctorContext } from '../../src/doctor/context.js';

// Never run: doctor stops before it would start this Airflow.
const AIRFLOW: AirflowInstall = {
  bin: '/nonexistent/airflow',
  python: '/nonexistent/python',
  version: '3.3.2',
  provider: '4.3.0',
  hvac: '2.3.0',
  major: '3',
};

function envWith(kwargs: Record<string, unknown>, home: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
    AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ url: 'http://127.0.0.1:9', ...kwargs }),
  };
}

describe('doctor and a kwargs file that would block Airflow', () => {
  it.each(['token_path', 'kubernetes_jwt_path', 'gcp_key_path', 'verify'])(
    'a FIFO as %s: Airflow is not asked, and the reason names it',
    async (key) => {
      const root = mkdtempSync(join(tmpdir(), 'css-doctor-fifo-'));
      const fifo = join(root, 'pipe');
      execFileSync('mkfifo', [fifo]);
      const ctx = await buildDoctorContext(root, envWith({ [key]: fifo }, root), { airflow: AIRFLOW });
      expect(ctx.probe).toBeUndefined();
      expect(ctx.notAsked).toBe(
        `${key} ${fifo} is a FIFO (named pipe), not a regular file, which Airflow's Vault client would wait on for ever`,
      );
    },
  );

  it('a regular token file, or none there, does not stop doctor from asking Airflow', async () => {
    const root = mkdtempSync(join(tmpdir(), 'css-doctor-fifo-'));
    writeFileSync(join(root, 'token'), 's.token\n');
    for (const path of [join(root, 'token'), join(root, 'absent')]) {
      const ctx = await buildDoctorContext(root, envWith({ token_path: path }, root), { airflow: AIRFLOW });
      // It tried: the stand-in interpreter does not exist, so the probe fails naming it.
      expect(ctx.probeError).toContain('/nonexistent/python');
      expect(ctx.notAsked).toBeUndefined();
    }
  });
});
