/**
 * Fixes for settings Airflow cannot read, followed as printed: each is either run by bash on a
 * real file (and the file then says what Airflow reads) or is the exact manual step, with what
 * only the user knows as a placeholder. The settings are read by the real backend-settings reader
 * over a .env bash sources; the expected lines come from what Airflow reads (configuration.py reads
 * AIRFLOW__SECRETS__BACKEND_KWARGS before its _CMD and _SECRET; the provider reads VAULT_TOKEN when
 * the kwargs give no token), not from the code under test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBackendWithEnvFile } from '../../src/airflow/backend/index.js';
import { backendKwargs } from '../../src/doctor/backend-kwargs.js';
import { configSource } from '../../src/doctor/config-source.js';
import { kwargsFix, YOUR_KWARGS, YOUR_TOKEN } from '../../src/doctor/fixes.js';
import { airflowCause } from '../../src/doctor/cause.js';
import type { ProbeReport } from '../../src/airflow/probe.js';
import type { CheckInput } from '../../src/doctor/types.js';
import { runFile } from '../../src/process.js';

const KW = 'AIRFLOW__SECRETS__BACKEND_KWARGS';
/** The user's shell: the backend class set (without it Airflow reads no kwargs at all). */
const BASE = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'css-fixes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A doctor context over `envText` as bash sources it, for a set-up this tool did not make. */
async function contextFor(envText: string, extra: Partial<CheckInput> = {}, version = '3'): Promise<CheckInput> {
  const envFile = join(dir, '.env');
  writeFileSync(envFile, envText);
  const base = { ...BASE, HOME: dir, AIRFLOW_HOME: join(dir, 'airflow') };
  const { user, read } = await readBackendWithEnvFile(envFile, { version, base, cwd: dir });
  return {
    env: user.env,
    envFileKeys: user.fromEnvFile,
    backend: read,
    kwargsRaw: read.kwargsText,
    kwargsSource: 'AIRFLOW__SECRETS__BACKEND_KWARGS',
    paths: { env: envFile },
    access: { urlFrom: 'kwargs' },
    ...extra,
  } as unknown as CheckInput;
}

/** Runs a printed fix in bash in `dir`, with the .env sourced as the tool's instructions say. */
async function run(fix: string): Promise<void> {
  const r = await runFile('bash', ['-c', `set -a; . ./.env; set +a\n${fix}`], {
    cwd: dir,
    env: BASE,
    timeoutMs: 20_000,
  });
  expect(r.code, r.stderr).toBe(0);
}

describe('kwargs named by a _SECRET', () => {
  it('asks for the plain variable in .env (read first), the JSON being what only the user knows', async () => {
    const ctx = await contextFor(`${KW}_SECRET=backend_kwargs\nVAULT_ADDR=http://127.0.0.1:8200\n`, {
      probe: { init_error: 'RecursionError' },
    } as unknown as Partial<CheckInput>);
    const r = await configSource.run(ctx);
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(
      `edit ${join(dir, '.env')}: ${KW}='${YOUR_KWARGS}'  # Airflow reads ${KW} before ${KW}_SECRET, which it cannot read through the backend it is building`,
    );
  });
});

describe('kwargs a command prints', () => {
  it('edits the file a `cat` prints, and Airflow then reads the edited kwargs', async () => {
    const file = join(dir, 'kwargs.json');
    writeFileSync(file, '{"url": "http://127.0.0.1:8200", "auth_type": "tokens", "token": "s.x"}');
    const ctx = await contextFor(`${KW}_CMD='cat ${file}'\n`);
    const fix = kwargsFix(ctx, { auth_type: { set: 'token' }, mountpoint: { remove: true } });
    expect(fix).not.toContain('s.x');
    await run(fix);
    const after = await contextFor(`${KW}_CMD='cat ${file}'\n`);
    expect(after.backend.kwargs).toEqual({ url: 'http://127.0.0.1:8200', auth_type: 'token', token: 's.x' });
  });

  it('names the command for any other program (only its owner can change what it prints)', async () => {
    const ctx = await contextFor(`${KW}_CMD='echo {}'\n`);
    expect(kwargsFix(ctx, { auth_type: { set: 'token' } })).toMatch(/^make the command in AIRFLOW__SECRETS__/);
  });
});

describe('kwargs Airflow drops', () => {
  it('single-quotes an unquoted JSON line and keeps the lines after it', async () => {
    const ctx = await contextFor(
      `${KW}={"url":"http://127.0.0.1:8200","token":"t"}\nVAULT_ADDR=http://127.0.0.1:8200\n`,
    );
    const r = await backendKwargs.run(ctx);
    expect(r.fix).toBeDefined();
    await run(r.fix ?? '');
    const after = await contextFor(readFileSync(join(dir, '.env'), 'utf8'));
    expect(after.backend.kwargs).toEqual({ url: 'http://127.0.0.1:8200', token: 't' });
    expect(after.env.get('VAULT_ADDR')).toBe('http://127.0.0.1:8200');
  });

  it('takes the object out of a one-item list around it', async () => {
    const ctx = await contextFor(`${KW}='[{"url": "http://127.0.0.1:8200", "token": "t"}]'\nB=1\n`);
    const r = await backendKwargs.run(ctx);
    await run(r.fix ?? '');
    const after = await contextFor(readFileSync(join(dir, '.env'), 'utf8'));
    expect(after.backend.kwargs).toEqual({ url: 'http://127.0.0.1:8200', token: 't' });
    expect(after.env.get('B')).toBe('1');
  });

  it("asks for the user's JSON where nothing says what was meant", async () => {
    const ctx = await contextFor(`${KW}='"just a string"'\n`);
    const r = await backendKwargs.run(ctx);
    expect(r.fix).toBe(
      `edit ${join(dir, '.env')}: ${KW}='${YOUR_KWARGS}'  # a JSON object: double quotes, null/true/false`,
    );
  });
});

describe('token auth with no token anywhere', () => {
  it('asks for VAULT_TOKEN in .env (the provider reads it when the kwargs name none)', async () => {
    const ctx = await contextFor(`${KW}='{"url": "http://127.0.0.1:8200", "auth_type": "token"}'\n`);
    const r = await backendKwargs.run(ctx);
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(
      `edit ${join(dir, '.env')}: VAULT_TOKEN='${YOUR_TOKEN}'  # read when the kwargs give no token or token_path`,
    );
  });
});

describe('a per-key kwarg Airflow 2.11 ignores', () => {
  const env = `${KW}='{"url": "http://127.0.0.1:8200"}'\n${KW.replace('KWARGS', 'KWARG')}__TOKEN=s.secret\n`;

  it('is the broken link when the backend cannot be built without it: the key goes into the JSON', async () => {
    const ctx = await contextFor(env, { intendedAirflow: { major: '2' } } as unknown as Partial<CheckInput>, '2');
    const r = await configSource.run(ctx);
    expect(r.status).toBe('fail');
    expect(r.fix).toBe(`in ${join(dir, '.env')}, ${KW}: set "token": "${YOUR_TOKEN}"`);
  });

  it('is applied by Airflow 3.3: nothing to say', async () => {
    const ctx = await contextFor(env, { intendedAirflow: { major: '3' } } as unknown as Partial<CheckInput>, '3');
    expect((await configSource.run(ctx)).status).toBe('ok');
  });

  it("comes before the kwargs when Airflow's start-up raised a VaultError", () => {
    const chain = [{ name: 'VaultError', message: "The 'token' authentication type requires 'token' or 'token_path'" }];
    const p = { init_error: { stage: 'import', chain } } as unknown as ProbeReport;
    expect(airflowCause(p)[0]).toBe('config source');
  });
});
