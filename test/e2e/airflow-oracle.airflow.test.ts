/**
 * The Airflow oracle (test/support/airflow_oracle.py behind airflow-oracle.ts) must answer as the
 * plain `airflow` command does, since the doctor corpus takes its answers as Airflow's verdict.
 * Corpus set-ups, working and broken, on Airflow 3 and 2 (airflow.cfg, a *_CMD, a proxy, a
 * traceback among them), each asked through both: the same exit code, the same stdout, the same
 * stderr (log timestamps aside). Both start from the same state: AIRFLOW_HOME is put back as it was between them
 * (the first run writes a default airflow.cfg there).
 */
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaled } from '../support/env.js';
import { processesUnder, runProcess, type Run } from '../support/sandbox.js';
import {
  CASES,
  lastLine,
  newCorpus,
  prepare,
  skipReason,
  startCorpus,
  stopCorpus,
  type Case,
  type Corpus,
} from '../support/doctor-corpus.js';

const PICKED: [name: string, major: '3' | '2'][] = [
  ['the sandbox as written: root token, conn_uri', '3'],
  ['the sandbox as written: root token, conn_uri', '2'],
  ['backend and kwargs in airflow.cfg, not the environment', '3'],
  ['backend and kwargs in airflow.cfg, not the environment', '2'],
  ['kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_CMD', '3'],
  ['HTTP_PROXY set, NO_PROXY covers the loopback address', '3'],
  ['HTTP_PROXY set and NO_PROXY does not cover Vault', '3'],
  ['the Airflow 1.10 class path on Airflow 3', '3'],
  ['connections_path null', '2'],
];

function pick(name: string, major: string): Case {
  const k = CASES.find((c) => c.setup.name === name && c.major === major);
  if (!k) throw new Error(`no corpus set-up "${name}" on Airflow ${major}`);
  return k;
}

/**
 * An answer as compared: the exit code, stdout whole, the last stderr line (what the corpus
 * prints as Airflow's word), and stderr whole but for log timestamps and the outermost traceback
 * frame, which is the `airflow` script's in one and the fork server's in the other.
 */
const answer = (r: Run) => ({
  code: r.code,
  stdout: r.stdout,
  lastStderr: lastLine(r.stderr),
  stderr: r.stderr
    .replace(/\d{4}-\d\d-\d\d[T ][\d:.,]+(?:[+-]\d\d:?\d\d|Z)?/g, '<time>')
    .replace(/^ {2}File "[^"]*(?:\/bin\/airflow|\/airflow_oracle\.py)", line \d+, in \S+$/gm, '  <entry point>'),
});

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

describe.skipIf(skipReason)('the Airflow oracle answers as the airflow command does', () => {
  let c: Corpus | undefined;
  const cases = PICKED.map(([name, major]) => pick(name, major));

  beforeAll(async () => {
    c = newCorpus();
    await startCorpus(c, ['3', '2']);
  });

  afterAll(async () => {
    await stopCorpus(c);
  });

  for (const k of cases) {
    it(`[Airflow ${k.major}] ${k.setup.name}`, async () => {
      const p = await prepare(c!, k);
      const pristine = `${p.home}.pristine`;
      cpSync(p.home, pristine, { recursive: true });
      const plain: Run[] = [];
      for (const args of p.judgeCalls)
        plain.push(
          await runProcess(c!.oracles[k.major]!.airflow, args, {
            env: p.airflowEnv,
            cwd: p.dir,
            timeoutMs: scaled(120_000),
          }),
        );
      rmSync(p.home, { recursive: true });
      cpSync(pristine, p.home, { recursive: true });
      const forked: Run[] = [];
      for (const args of p.judgeCalls)
        forked.push(
          await c!.oracles[k.major]!.run(args, { env: p.airflowEnv, cwd: p.dir, timeoutMs: scaled(120_000) }),
        );

      expect(forked.map(answer)).toEqual(plain.map(answer));
      // The set-up is what the corpus says it is, so both kinds of answer were compared.
      expect(
        plain.every((r) => r.code === 0),
        plain.map((r) => lastLine(r.stderr)).join(' | '),
      ).toBe(k.setup.link === undefined);
    });
  }

  it('refuses a call that changes a variable a preloaded module read at import', async () => {
    const o = c!.oracles['3']!;
    // hvac reads VAULT_CACERT when imported, and the server imported it before any call.
    expect(o.info.envRead).toContain('VAULT_CACERT');
    const p = await prepare(c!, pick('the sandbox as written: root token, conn_uri', '3'));
    await expect(
      o.run(['connections', 'get', p.h.conn, '-o', 'json'], {
        env: { ...p.airflowEnv, VAULT_CACERT: join(p.dir, 'ca.pem') },
        cwd: p.dir,
      }),
    ).rejects.toThrow(/VAULT_CACERT/);
  });

  it('kills a call that hangs, with whatever it started, and goes on answering', async () => {
    const o = c!.oracles['3']!;
    const p = await prepare(c!, pick('kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_CMD', '3'));
    const hung = await o.run(['connections', 'get', p.h.conn, '-o', 'json'], {
      env: { ...p.airflowEnv, AIRFLOW__SECRETS__BACKEND_KWARGS_CMD: 'sleep 3600' },
      cwd: p.dir,
      timeoutMs: scaled(5_000),
    });
    expect(hung.code).toBe(128 + 9);
    expect(processesUnder(p.dir).map((pid) => `${pid}: ${cmdline(pid)}`)).toEqual([]);
    const next = await o.run(['connections', 'get', p.h.conn, '-o', 'json'], {
      env: p.airflowEnv,
      cwd: p.dir,
      timeoutMs: scaled(120_000),
    });
    expect(next.code, next.stderr).toBe(0);
  });
});
