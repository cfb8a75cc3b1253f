/**
 * doctor on a default sandbox (no flags, no config edits) without Airflow: it knows the ids the
 * sandbox seeded (the example smtp_default included) and fails for each broken link, never
 * "No problems" because it had nothing to ask about.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, serverBinary } from '../support/env.js';
import { BREAKS, defaultSandbox, expectDoctorFails } from '../support/doctor-default.js';
import { freePort, runCli, workspaces } from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);
/** No airflow anywhere: the server binary, node and the system. */
const NO_AIRFLOW_PATH = [dirname(BIN ?? ''), dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter);

describe.skipIf(skipReason)('doctor on a default sandbox, without Airflow, fails for', () => {
  it('nothing when nothing is broken (the control)', async () => {
    const w = ws({ PATH: NO_AIRFLOW_PATH });
    await defaultSandbox(w);
    const r = await runCli(w, ['doctor']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/smtp_default/);
    expect((await runCli(w, ['down'])).code).toBe(0);
  });

  for (const b of BREAKS) {
    it(b.name, async () => {
      const w = ws({ PATH: NO_AIRFLOW_PATH });
      const dir = await defaultSandbox(w);
      await b.apply(w, dir);
      expectDoctorFails(await runCli(w, ['doctor']), b.says);
      expect((await runCli(w, ['down'])).code).toBe(0);
    });
  }

  it('doctor honours --config FILE, and without it reads the config the sandbox recorded', async () => {
    const w = ws({ PATH: NO_AIRFLOW_PATH });
    mkdirSync(join(w.cwd, 'conf'));
    writeFileSync(join(w.cwd, 'conf', 'sb.yaml'), 'connections:\n  pg: postgres://u:p@db:5432/app\n');
    w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    const created = await runCli(w, ['--yes', '--config', 'conf/sb.yaml']);
    expect(created.code, created.stderr).toBe(0);
    // Another config naming an id nobody seeded: doctor asks about it only when told to read that file.
    writeFileSync(join(w.cwd, 'conf', 'other.yaml'), 'connections:\n  other_id: http://h.example.com\n');
    const told = await runCli(w, ['doctor', '--config', 'conf/other.yaml']);
    expect(told.code, told.stdout).toBe(1);
    expect(told.stdout).toContain('other_id');
    const recorded = await runCli(w, ['doctor']);
    expect(recorded.code, recorded.stdout).toBe(0);
    expect(recorded.stdout).not.toContain('other_id');
    expect(recorded.stdout).toContain('pg');
    expect((await runCli(w, ['down'])).code).toBe(0);
  });
});
