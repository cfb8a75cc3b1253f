/**
 * Which settings the env file gives, when bash sources it on top of the user's shell: a value the
 * file sets is the file's even when the shell already holds it (the user sourced .env before, so
 * the fix for it belongs in the file, which every later source sets again); one only the shell
 * holds stays the shell's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { userEnvironment } from '../../src/airflow/backend/user-env.js';

describe('the env file sourced on top of the shell', () => {
  it('a value the file sets is from the file, also when the shell that sourced it before holds the same value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'css-user-env-'));
    const file = join(dir, '.env');
    writeFileSync(
      file,
      'AIRFLOW__SECRETS__BACKEND_KWARGS=\'{"mount_point": "nothere"}\'\nVAULT_ADDR=\'http://127.0.0.1:8200\'\n',
      {
        mode: 0o600,
      },
    );
    const shell = {
      PATH: process.env.PATH,
      AIRFLOW__SECRETS__BACKEND_KWARGS: '{"mount_point": "nothere"}',
      VAULT_ADDR: 'http://127.0.0.1:9999',
      AIRFLOW_HOME: '/home/u/airflow',
    };
    const u = await userEnvironment(shell, file, { cwd: dir });
    expect(u.env.get('VAULT_ADDR')).toBe('http://127.0.0.1:8200');
    expect(u.env.get('AIRFLOW__SECRETS__BACKEND_KWARGS')).toBe('{"mount_point": "nothere"}');
    expect(u.fromEnvFile.has('AIRFLOW__SECRETS__BACKEND_KWARGS')).toBe(true);
    expect(u.fromEnvFile.has('VAULT_ADDR')).toBe(true);
    expect(u.fromEnvFile.has('AIRFLOW_HOME')).toBe(false);
  });
});
