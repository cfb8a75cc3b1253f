/**
 * doctor on a default sandbox (no flags, no config edits) with real Airflow 3 on PATH: Airflow is
 * asked about the ids the sandbox seeded (the example smtp_default included) and doctor fails for
 * each broken link.
 */
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';
import { BREAKS, defaultSandbox, expectDoctorFails } from '../support/doctor-default.js';
import { runCli, workspaces } from '../support/sandbox.js';

const BIN = serverBinary();
const AIRFLOW3 = join(ROOT, '.venvs', 'airflow3', 'bin');
const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW3, 'airflow'));
const ws = workspaces(BIN);

describe.skipIf(skipReason)('doctor on a default sandbox, with Airflow 3, fails for', () => {
  for (const b of BREAKS) {
    it(
      b.name,
      async () => {
        const w = ws();
        w.env.PATH = `${AIRFLOW3}${delimiter}${w.env.PATH}`;
        const dir = await defaultSandbox(w, scaled(120_000));
        await b.apply(w, dir);
        const r = await runCli(w, ['doctor'], { timeoutMs: scaled(90_000) });
        expectDoctorFails(r, b.says);
        expect(r.stdout).toMatch(/Verdict: Airflow 3\./);
        expect((await runCli(w, ['down'])).code).toBe(0);
      },
      scaled(300_000),
    );
  }
});
