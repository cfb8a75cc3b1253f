/**
 * Helpers for doctor's named regression cases (test/e2e/doctor-issue20*.test.ts): a sandbox made by
 * the tool or a dev server started by hand, edits of its .env, doctor's JSON, and following a fix
 * the way a user would (a key edit applied to its file, anything else run by bash in their shell).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { freePort, readJson, runCli, runProcess, type Workspace } from './sandbox.js';

export interface DoctorJson {
  ok: boolean;
  verdict: 'airflow' | 'emulation';
  decided: boolean;
  ask?: string;
  notAsked?: string;
  fixed?: {
    applied: boolean;
    said: string[];
    reload?: string;
    error?: { step?: string; message: string; fix?: string };
  };
  checks: {
    id: string;
    status: string;
    detail: string;
    fix?: string;
    link?: string;
    explainedBy?: string;
    suspect?: boolean;
    details?: string[];
  }[];
}

export interface Doctor {
  code: number;
  json: DoctorJson;
  text: string;
  stderr: string;
}

export async function doctorJson(w: Workspace, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Doctor> {
  const r = await runCli(w, ['doctor', '--json', ...args], { env, timeoutMs: 240_000 });
  let json: DoctorJson;
  try {
    json = readJson<DoctorJson>(r.stdout);
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.code}): ${r.stderr.slice(-800)}`);
  }
  return { code: r.code, json, text: r.stdout, stderr: r.stderr };
}

export const checkOf = (d: DoctorJson, id: string) => {
  const c = d.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in doctor's report`);
  return c;
};

/** The check that explains Airflow's verdict, or (without Airflow) the first failing one. */
export function explaining(d: DoctorJson): DoctorJson['checks'][number] | undefined {
  const verdict = d.checks.find((c) => c.id === 'airflow-verdict');
  if (verdict?.explainedBy) return d.checks.find((c) => c.id === verdict.explainedBy);
  return d.checks.find((c) => c.status === 'fail');
}

/** The first fix doctor gives: the verdict's, else the explaining check's. */
export function firstFix(d: DoctorJson): string | undefined {
  const verdict = d.checks.find((c) => c.id === 'airflow-verdict');
  return verdict?.status === 'fail' ? (verdict.fix ?? explaining(d)?.fix) : explaining(d)?.fix;
}

/** A sandbox made by the tool (`create --yes`) in `w`, with extra create flags. */
export async function toolSandbox(w: Workspace, flags: string[] = []): Promise<{ dir: string; port: number }> {
  const port = await freePort();
  const r = await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`, ...flags], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  return { dir: join(w.cwd, 'secrets-sandbox'), port };
}

export function editFile(file: string, fn: (text: string) => string): void {
  writeFileSync(file, fn(readFileSync(file, 'utf8')));
}

/** The kwargs JSON of a sandbox .env, changed by `fn` (the line stays single-quoted). */
export function editKwargs(envFile: string, fn: (kw: Record<string, unknown>) => void): void {
  editFile(envFile, (t) =>
    t.replace(/^AIRFLOW__SECRETS__BACKEND_KWARGS='(.*)'$/m, (_, json: string) => {
      const kw = JSON.parse(json) as Record<string, unknown>;
      fn(kw);
      return `AIRFLOW__SECRETS__BACKEND_KWARGS='${JSON.stringify(kw)}'`;
    }),
  );
}

export function kwargsOf(envFile: string): Record<string, unknown> {
  const m = /^AIRFLOW__SECRETS__BACKEND_KWARGS='(.*)'$/m.exec(readFileSync(envFile, 'utf8'));
  return m?.[1] ? (JSON.parse(m[1]) as Record<string, unknown>) : {};
}

/** A request to the server as an admin would make it. */
export async function vaultApi(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const r = await fetch(`${url}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** How many uses a token has left, asked with the admin token (which spends none of them). */
export async function usesLeft(url: string, admin: string, token: string): Promise<number> {
  const r = await vaultApi(url, admin, 'POST', 'auth/token/lookup', { token });
  return Number((r.json?.data as { num_uses?: number } | undefined)?.num_uses);
}

/**
 * Follows a fix as a user would: `in FILE, AIRFLOW__SECRETS__BACKEND_KWARGS: set "k": v; remove "k"`
 * and `edit FILE: KEY='value'` are applied to the file; anything else is run by bash in the user's
 * shell (`shell`, after sourcing the sandbox .env when there is one). Returns the shell afterwards.
 */
export async function follow(
  fix: string,
  shell: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ ok: boolean; shell: NodeJS.ProcessEnv; output: string }> {
  const kw = /^in (\S+), (AIRFLOW__SECRETS__BACKEND_KWARGS): (.*)$/.exec(fix);
  if (kw?.[1] && kw[3]) {
    const file = kw[1];
    editKwargs(file, (k) => {
      for (const part of (kw[3] ?? '').split(/;\s*/)) {
        const set = /^set "([^"]+)": (.*)$/.exec(part);
        const rm = /^remove "([^"]+)"$/.exec(part);
        if (set?.[1] && set[2] !== undefined) k[set[1]] = JSON.parse(set[2]);
        else if (rm?.[1]) delete k[rm[1]];
        else throw new Error(`cannot follow "${part}"`);
      }
    });
    return { ok: true, shell, output: '' };
  }
  const edit = /^edit (\S+): (\w+)='(.*)'$/.exec(fix);
  if (edit?.[1] && edit[2] && edit[3] !== undefined) {
    const [, file, key, value] = edit;
    editFile(file, (t) => {
      const re = new RegExp(`^(export\\s+)?${key}=.*$`, 'm');
      return re.test(t) ? t.replace(re, `${key}='${value}'`) : `${t}${t.endsWith('\n') ? '' : '\n'}${key}='${value}'\n`;
    });
    return { ok: true, shell, output: '' };
  }
  const out = join(cwd, `.doctor-case-env-${process.pid}`);
  const r = await runProcess('bash', ['-c', `${fix}\n__rc=$?\nenv -0 > "$__ENV_OUT"\nexit $__rc`], {
    cwd,
    env: { ...shell, __ENV_OUT: out },
    timeoutMs: 180_000,
  });
  const after: NodeJS.ProcessEnv = {};
  for (const kv of readFileSync(out, 'utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) after[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  rmSync(out, { force: true });
  for (const k of ['__ENV_OUT', '__rc', '_', 'SHLVL']) delete after[k];
  return { ok: r.code === 0, shell: r.code === 0 ? after : shell, output: r.stderr + r.stdout };
}

/** The user's shell after `set -a; . FILE; set +a` on top of `base` (bash itself reads the file). */
export async function sourced(base: NodeJS.ProcessEnv, file: string): Promise<NodeJS.ProcessEnv> {
  const r = await runProcess('bash', ['-c', 'set -a; . "$1"; set +a; env -0', 'sourced', file], { env: base });
  expect(r.code, r.stderr).toBe(0);
  const out: NodeJS.ProcessEnv = {};
  for (const kv of r.stdout.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  for (const k of ['_', 'SHLVL']) delete out[k];
  return out;
}
