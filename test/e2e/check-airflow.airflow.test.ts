/**
 * The create flow's Airflow check runs with exactly the environment the user's Airflow gets (issue
 * 14 item 3): the user's proxy variables reach it. The .env's NO_PROXY keeps the sandbox's loopback
 * address out of the proxy; without it the check fails and names the proxy, never hidden by an
 * environment only the check has. One probe process per run (issue 13 item 3).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary } from '../support/env.js';
import { cleanup, freePort, readJson, runCli, workspace, type Workspace } from '../support/sandbox.js';

const BIN = serverBinary();
const AIRFLOW3 = join(ROOT, '.venvs', 'airflow3', 'bin');
const spaces: Workspace[] = [];

afterEach(() => {
  for (const w of spaces.splice(0)) expect(cleanup(w), 'a server process was left running').toEqual([]);
});

describe.skipIf(missing('server binary', BIN) ?? missing('Airflow 3 venv', join(AIRFLOW3, 'airflow')))(
  '--check airflow with a proxy in the user environment',
  () => {
    it('passes through the .env NO_PROXY, and fails naming the proxy once NO_PROXY is gone', {
      timeout: 450_000,
    }, async () => {
      // Port 9 (discard) has no listener: a request sent to this proxy fails at once.
      const w = workspace(BIN, { HTTP_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9' });
      w.env.PATH = `${AIRFLOW3}${delimiter}${w.env.PATH}`;
      spaces.push(w);
      const args = [
        '--yes',
        '--address',
        `127.0.0.1:${await freePort()}`,
        '--conn',
        'pg=postgres://u:p@db:5432/app',
        '--var',
        'env=dev',
      ];
      const first = await runCli(w, [...args, '--check', 'airflow', '--json'], { timeoutMs: 200_000 });
      expect(first.code, first.stderr).toBe(0);
      const s = readJson<{ airflow_checks: { id: string; ok: boolean; detail: string }[] }>(first.stdout);
      expect(s.airflow_checks.map((c) => [c.id, c.ok])).toEqual([
        ['pg', true],
        ['env', true],
      ]);
      expect(s.airflow_checks[0]!.detail).toContain('from Vault');

      const f = join(w.cwd, 'secrets-sandbox', '.env');
      writeFileSync(
        f,
        readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => !/^(NO_PROXY|no_proxy)=/.test(l))
          .join('\n'),
      );
      const second = await runCli(w, [...args, '--check', 'airflow'], { timeoutMs: 200_000 });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain("Airflow did not resolve 'pg'");
      expect(second.stderr).toMatch(
        /First broken link: address\/TLS\/proxy \(Proxy between Airflow and Vault\): Airflow's requests go through HTTP_PROXY \(http:\/\/127\.0\.0\.1:9\), where nothing listens/,
      );
      // NO_PROXY is set nowhere now: the fix puts it back into the .env every instruction loads.
      expect(second.stderr).toMatch(/edit \S*\.env: NO_PROXY='127\.0\.0\.1'/);
      await runCli(w, ['down']);
    });
  },
);
