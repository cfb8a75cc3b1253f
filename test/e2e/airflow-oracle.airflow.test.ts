/**
 * The Airflow oracle (test/support/airflow_oracle.py behind airflow-oracle.ts) must answer as the
 * plain `airflow` command does, since the doctor corpus takes its answers as Airflow's verdict, and
 * its python shim must run doctor's probe as the venv's own interpreter does, since the corpus runs
 * doctor with the shim's dir on PATH. Corpus set-ups, working and broken, on Airflow 3 and 2
 * (airflow.cfg, a _CMD, a proxy, TLS with VAULT_CACERT, a traceback among them), each asked through
 * both: the same exit code, the same stdout, the same stderr (log timestamps aside); doctor's report
 * the same through both interpreters (timings and the interpreter's path aside). Both start from
 * the same state: AIRFLOW_HOME is put back as it was between them (the first run writes a default
 * airflow.cfg there).
 */
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scaled, serverBinary } from '../support/env.js';
import { processesUnder, runProcess, type Run } from '../support/sandbox.js';
import { sourcedEnv } from '../support/corpus/airflow-verdict.js';
import { NAMED } from '../support/corpus/named.js';
import { AIRFLOW_BIN, build, killUnder, startCorpus, stopCorpus, type Corpus } from '../support/corpus/runner.js';
import { skipReason } from '../support/corpus/suite.js';
import type { World } from '../support/corpus/world.js';

const PICKED = [
  '[3] the set-up as Airflow documents it: root token, conn_uri, a variable',
  '[2] the set-up as Airflow documents it: root token, conn_uri, a variable',
  '[3] backend and kwargs in airflow.cfg, not the environment',
  '[2] backend and kwargs in airflow.cfg, not the environment',
  '[3] kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_CMD',
  '[3] HTTP_PROXY set, NO_PROXY covers the loopback address',
  '[3] HTTP_PROXY set and NO_PROXY does not cover Vault',
  '[3] the Airflow 1.10 class path on Airflow 3',
  '[2] connections_path null',
  '[3] verify naming a CA file that does not exist',
];

/** The same set-ups through doctor: once with the shim on PATH, once with the venv's own bin. */
const DOCTORED = [
  '[3] the set-up as Airflow documents it: root token, conn_uri, a variable',
  '[2] a policy written for secret/connections/* (no data/ on KV v2)',
  '[3] a kwargs url on the wrong port while VAULT_ADDR is right (sandbox made by the tool)',
];

function spec(name: string, n: number) {
  const named = NAMED.find((x) => x.name === name);
  if (!named) throw new Error(`no named corpus case "${name}"`);
  return named.spec(n);
}

const lastLine = (text: string): string => text.trim().split('\n').slice(-1)[0] ?? '';

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
    .replace(/^ {2}File "[^"]*(?:\/bin\/airflow|\/airflow_oracle\.py)", line \d+, in \S+$/gm, '  <entry point>')
    // The fork server's entry is two frames of its own file where the script's is one: keep the innermost.
    .replace(/^ {2}<entry point>\n {4}.*\n(?= {2}<entry point>$)/gm, ''),
});

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

const calls = (w: World): string[][] => [
  ...w.conns.map((k) => ['connections', 'get', k.id, '-o', 'json']),
  ...w.vars.map((v) => ['variables', 'get', v.key]),
];

async function airflowEnv(c: Corpus, w: World): Promise<Record<string, string>> {
  const shell: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...c.ws.env, ...w.shell })) if (v !== undefined) shell[k] = v;
  return sourcedEnv(shell, w.dir);
}

/** doctor --json as compared: timings and where the interpreter lives aside. */
function report(r: Run, airflowDir: string): unknown {
  const d = JSON.parse(r.stdout) as { airflow?: Record<string, unknown>; checks: Record<string, unknown>[] };
  const text = JSON.stringify({ ...d, airflow: { ...d.airflow, probeSeconds: 0, timings: {} } }).replace(
    /asked in one process, [\d.]+ s/g,
    'asked in one process, <seconds> s',
  );
  return { code: r.code, report: JSON.parse(text.replaceAll(airflowDir, '<airflow bin>')) };
}

describe.skipIf(skipReason)('the Airflow oracle answers as the airflow command does', () => {
  let c: Corpus | undefined;
  let n = 2000;

  beforeAll(async () => {
    c = await startCorpus(serverBinary() ?? '', ['3', '2']);
  });

  // Each set-up's servers end with its test.
  afterEach(() => {
    if (c) for (let i = 2000; i < n; i++) killUnder(join(c.ws.root, `setup-${i}`));
  });

  afterAll(async () => {
    if (c) expect(await stopCorpus(c)).toEqual([]);
  });

  for (const name of PICKED) {
    it(name, async () => {
      if (!c) throw new Error('no corpus');
      const s = spec(name, n++);
      const oracle = c.oracles[s.major];
      if (!oracle) throw new Error('no oracle');
      const w = await build(c, s);
      const env = await airflowEnv(c, w);
      const pristine = `${w.home}.pristine`;
      cpSync(w.home, pristine, { recursive: true });
      const plain: Run[] = [];
      for (const args of calls(w))
        plain.push(await runProcess(oracle.airflow, args, { env, cwd: w.dir, timeoutMs: scaled(120_000) }));
      rmSync(w.home, { recursive: true });
      cpSync(pristine, w.home, { recursive: true });
      const forked: Run[] = [];
      for (const args of calls(w)) forked.push(await oracle.run(args, { env, cwd: w.dir, timeoutMs: scaled(120_000) }));

      expect(forked.map(answer)).toEqual(plain.map(answer));
      // The set-up is what the corpus says it is, so both kinds of answer were compared.
      expect(
        plain.every((r) => r.code === 0),
        plain.map((r) => lastLine(r.stderr)).join(' | '),
      ).toBe(s.cause === undefined);
    });
  }

  for (const name of DOCTORED) {
    it(`doctor through the shim: ${name}`, async () => {
      if (!c) throw new Error('no corpus');
      const s = spec(name, n++);
      const shimDir = c.oracles[s.major]?.shimDir;
      if (!shimDir) throw new Error('no shim');
      const w = await build(c, s);
      const shell: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...c.ws.env, ...w.shell })) if (v !== undefined) shell[k] = v;
      const doctor = (dir: string) =>
        runProcess(join(c?.binDir ?? '', 'create-secrets-sandbox'), ['doctor', w.dir, '--json'], {
          cwd: c?.ws.cwd,
          env: { ...shell, PATH: `${dir}${delimiter}${shell.PATH}` },
          timeoutMs: scaled(180_000),
        });
      const real = await doctor(AIRFLOW_BIN[s.major]);
      const shimmed = await doctor(shimDir);
      expect(report(shimmed, shimDir)).toEqual(report(real, AIRFLOW_BIN[s.major]));
      expect(c.oracles[s.major]?.fallbacks(), 'the shim ran every call in the server').toEqual([]);
    });
  }

  it('refuses a call that changes a variable a preloaded module read at import', async () => {
    if (!c) throw new Error('no corpus');
    const o = c.oracles['3'];
    if (!o) throw new Error('no oracle');
    const read = o.info.envRead.find((k) => !k.startsWith('PYTHON'));
    expect(read, 'a variable some preloaded module reads at import').toBeTruthy();
    const w = await build(c, spec(PICKED[0] ?? '', n++));
    const env = await airflowEnv(c, w);
    await expect(
      o.run(['connections', 'get', w.conns[0]?.id ?? '', '-o', 'json'], {
        env: { ...env, [read ?? '']: `${env[read ?? ''] ?? ''}-changed` },
        cwd: w.dir,
      }),
    ).rejects.toThrow(read);
  });

  it('kills a call that hangs, with whatever it started, and goes on answering', async () => {
    if (!c) throw new Error('no corpus');
    const o = c.oracles['3'];
    if (!o) throw new Error('no oracle');
    const w = await build(c, spec('[3] kwargs from AIRFLOW__SECRETS__BACKEND_KWARGS_CMD', n++));
    const env = await airflowEnv(c, w);
    const id = w.conns[0]?.id ?? '';
    const hung = await o.run(['connections', 'get', id, '-o', 'json'], {
      env: { ...env, AIRFLOW__SECRETS__BACKEND_KWARGS_CMD: 'sleep 3600' },
      cwd: w.dir,
      timeoutMs: scaled(5_000),
    });
    expect(hung.code).toBe(128 + 9);
    expect(
      processesUnder(w.dir)
        .filter((pid) => !cmdline(pid).includes(' server '))
        .map(cmdline),
    ).toEqual([]);
    const next = await o.run(['connections', 'get', id, '-o', 'json'], { env, cwd: w.dir, timeoutMs: scaled(120_000) });
    expect(next.code, next.stderr).toBe(0);
  });
});
