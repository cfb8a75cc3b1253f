/**
 * Real Airflow's verdict on a set-up: for every connection and variable the set-up lists, what
 * `airflow connections get ID -o json` / `airflow variables get KEY` answer (asked through the fork
 * server, held to the plain CLI by airflow-oracle.airflow.test.ts) in the environment the user's
 * Airflow gets: the user's shell with the sandbox .env sourced by bash, as every instruction of the
 * tool says (`set -a; . ./.env; set +a`). An id is resolved only when what Airflow resolves is
 * what the user meant, field by field: a connection Airflow "finds" with the password cut at a raw
 * `#` is not resolved.
 */
import { join } from 'node:path';
import { scaled } from '../env.js';
import { runProcess } from '../sandbox.js';
import type { AirflowOracle } from '../airflow-oracle.js';
import type { ConnIntent, World } from './world.js';

export interface IdVerdict {
  id: string;
  kind: 'conn' | 'var';
  ok: boolean;
  /** Why not: Airflow's last error line, or the fields that differ from the intent. */
  why?: string;
}

export interface AirflowVerdict {
  ok: boolean;
  ids: IdVerdict[];
  said: string;
}

/** The shell after `set -a; . ./.env; set +a`, computed by bash itself. */
export async function sourcedEnv(base: NodeJS.ProcessEnv, dir: string): Promise<Record<string, string>> {
  const r = await runProcess(
    'bash',
    ['-c', 'set -a; . "$1" >/dev/null 2>&1; set +a; env -0', 'source-env', join(dir, '.env')],
    { cwd: dir, env: base },
  );
  const out: Record<string, string> = {};
  for (const kv of r.stdout.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  // bash's own bookkeeping is not the user's environment.
  for (const k of ['_', 'SHLVL', 'PWD', 'OLDPWD']) delete out[k];
  if (base.PWD !== undefined) out.PWD = base.PWD;
  return out;
}

const empty = (v: unknown): boolean => v === null || v === undefined || v === '';

function sameExtra(a: unknown, b: Record<string, unknown> | null): boolean {
  const x = a && typeof a === 'object' && Object.keys(a).length > 0 ? a : null;
  const y = b && Object.keys(b).length > 0 ? b : null;
  return JSON.stringify(x) === JSON.stringify(y);
}

/** The fields of `connections get -o json` that differ from what the user meant (passwords never shown). */
export function connDiff(got: Record<string, unknown>, want: ConnIntent): string[] {
  const out: string[] = [];
  for (const k of ['conn_type', 'host', 'login', 'password', 'schema'] as const) {
    const g = got[k];
    const w = want[k];
    if (empty(g) && empty(w)) continue;
    if (g !== w) out.push(k === 'password' ? 'password' : `${k} ${JSON.stringify(g)} (meant ${JSON.stringify(w)})`);
  }
  const gp = got.port;
  if (!(empty(gp) && want.port === null) && String(gp) !== String(want.port))
    out.push(`port ${JSON.stringify(gp)} (meant ${want.port})`);
  if (!sameExtra(got.extra_dejson, want.extra)) out.push(`extra ${JSON.stringify(got.extra_dejson)}`);
  return out;
}

/** The JSON list `-o json` prints, after whatever Airflow logged to stdout first (Airflow 2 logs there). */
function jsonList(stdout: string): Record<string, unknown>[] {
  for (let at = stdout.indexOf('['); at >= 0; at = stdout.indexOf('\n[', at + 1) + 1 || -1) {
    try {
      return JSON.parse(stdout.slice(at)) as Record<string, unknown>[];
    } catch {
      /* a log line, not the list */
    }
  }
  throw new Error(`no JSON list in the output of connections get: ${stdout.slice(0, 300)}`);
}

const lastLine = (text: string): string =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .slice(-1)[0]
    ?.slice(0, 240) ?? '';

export async function airflowVerdict(w: World, oracle: AirflowOracle, env: NodeJS.ProcessEnv): Promise<AirflowVerdict> {
  const ids: IdVerdict[] = [];
  for (const c of w.conns) {
    const r = await oracle.run(['connections', 'get', c.id, '-o', 'json'], {
      env,
      cwd: w.dir,
      timeoutMs: scaled(120_000),
    });
    if (r.code !== 0) {
      ids.push({ id: c.id, kind: 'conn', ok: false, why: lastLine(r.stderr) || `exit ${r.code}` });
      continue;
    }
    const diff = connDiff(jsonList(r.stdout)[0] ?? {}, c.intent);
    ids.push({
      id: c.id,
      kind: 'conn',
      ok: diff.length === 0,
      why: diff.length ? `resolves ${diff.join(', ')}` : undefined,
    });
  }
  for (const v of w.vars) {
    const r = await oracle.run(['variables', 'get', v.key], { env, cwd: w.dir, timeoutMs: scaled(120_000) });
    const value = r.stdout.replace(/\n$/, '');
    const ok = r.code === 0 && value === v.value;
    ids.push({
      id: v.key,
      kind: 'var',
      ok,
      why: ok ? undefined : r.code !== 0 ? lastLine(r.stderr) || `exit ${r.code}` : 'resolves another value',
    });
  }
  return {
    ok: ids.every((i) => i.ok),
    ids,
    said: ids
      .filter((i) => !i.ok)
      .map((i) => `${i.id}: ${i.why}`)
      .join(' | '),
  };
}
