/**
 * What Airflow's Vault backend read, as the probe reports it to doctor: for a variable Vault holds
 * but VaultBackend returns nothing for, the secret's keys (and which are null) name why, without a
 * value ever leaving the probe. Real Airflow 3 and a real server.
 */
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOf, doctorJson, toolSandbox, vaultApi } from '../support/doctor-cases.js';
import { envOf, runCli, workspaces } from '../support/sandbox.js';
import { missing, ROOT, scaled, serverBinary } from '../support/env.js';

const BIN = serverBinary();
const AIRFLOW3 = join(ROOT, '.venvs', 'airflow3', 'bin');
const skipReason = missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW3, 'airflow'));
const ws = workspaces(BIN);
const HIDDEN = 'never-printed-4711';

describe.skipIf(skipReason)(
  'doctor with Airflow 3: why VaultBackend returns nothing for a variable Vault holds',
  () => {
    it.each([
      ['a secret without a "value" key', { val: HIDDEN }, /stage: no "value" key \(keys: val\)/],
      ['a "value" that is null', { value: null, note: HIDDEN }, /stage: "value" is null/],
    ])(
      '%s: named from the keys Airflow read, no value shown',
      async (_, data, says) => {
        const w = ws();
        w.env.PATH = `${AIRFLOW3}${delimiter}${w.env.PATH}`;
        const { dir } = await toolSandbox(w, ['--var', 'stage=dev']);
        const env = envOf(dir);
        const put = await vaultApi(
          String(env.get('VAULT_ADDR')),
          String(env.get('VAULT_TOKEN')),
          'POST',
          'secret/data/variables/stage',
          {
            data,
          },
        );
        expect(put.status).toBe(200);
        const d = await doctorJson(w);
        expect(d.code, d.text).toBe(1);
        expect(d.json.verdict).toBe('airflow');
        const v = checkOf(d.json, 'variables');
        expect(v.status, d.text).toBe('fail');
        expect(v.detail).toMatch(says);
        expect(d.text + d.stderr).not.toContain(HIDDEN);
        expect((await runCli(w, ['down'])).code).toBe(0);
      },
      scaled(300_000),
    );
  },
);
