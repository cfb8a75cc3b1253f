/**
 * Finds a real Airflow and asks it questions. Versions come from the package metadata of the
 * Python that runs `airflow` (a fraction of a second), not from `airflow version` (seconds).
 */
import { existsSync } from 'node:fs';
import { findOnPath } from '../vault/binary.js';
import { readUserFileWindow } from '../io/read.js';
import { assertTrustedExecutable } from '../io/trust.js';
import { runFile } from '../process.js';
import { airflowFeatures, airflowMajor, type AirflowVersion } from './backend/index.js';

export interface AirflowInstall {
  bin: string;
  python: string;
  version: string;
  /** apache-airflow-providers-hashicorp, or null when not installed (the contrib backend of 1.10 needs none). */
  provider: string | null;
  hvac: string | null;
  major: AirflowVersion;
}

function shebangPython(script: string): string | null {
  try {
    const head = readUserFileWindow(script, { what: 'the airflow script', maxBytes: 512, from: 'start' });
    const first = head.split('\n')[0] ?? '';
    const m = first.match(/^#!\s*(\S+)(?:\s+(\S+))?/);
    if (!m) return null;
    // `#!/usr/bin/env python3` style
    if (m[1]?.endsWith('/env') && m[2]) return findOnPath(m[2]) ?? null;
    return m[1] ?? null;
  } catch {
    return null;
  }
}

const VERSIONS_PY = `
import importlib.metadata as m
for d in ("apache-airflow", "apache-airflow-providers-hashicorp", "hvac"):
    try:
        print(m.version(d))
    except Exception:
        print("")
`;

/** The airflow named, then the one on PATH, then `venvAirflow` (the sandbox's venv, src/sandbox). */
export function airflowCandidates(explicit: string | undefined, venvAirflow: string | undefined): string[] {
  const out: string[] = [];
  if (explicit) out.push(explicit);
  const onPath = findOnPath('airflow');
  if (onPath) out.push(onPath);
  if (venvAirflow && existsSync(venvAirflow)) out.push(venvAirflow);
  return out;
}

export async function inspectAirflow(bin: string): Promise<AirflowInstall | null> {
  // The script and the interpreter its #! names run as the caller: never another user's.
  assertTrustedExecutable(bin, 'airflow');
  const python = shebangPython(bin);
  if (!python) return null;
  assertTrustedExecutable(python, `the Python that ${bin} names in its #! line`);
  const r = await runFile(python, ['-c', VERSIONS_PY], { timeoutMs: 30_000 });
  if (r.code !== 0) return null;
  const [version = '', provider = '', hvac = ''] = r.stdout.split('\n').map((l) => l.trim());
  if (!version) return null;
  return { bin, python, version, provider: provider || null, hvac: hvac || null, major: airflowMajor(version) };
}

export async function findAirflow(explicit?: string, venvAirflow?: string): Promise<AirflowInstall | null> {
  for (const bin of airflowCandidates(explicit, venvAirflow)) {
    const found = await inspectAirflow(bin);
    if (found) return found;
  }
  return null;
}

export async function initDb(a: AirflowInstall, env: NodeJS.ProcessEnv): Promise<{ ok: boolean; output: string }> {
  const r = await runFile(a.bin, [...airflowFeatures(a.version).dbInitCommand], { env, timeoutMs: 300_000 });
  return { ok: r.code === 0, output: r.stderr + r.stdout };
}

/** 3.x runs `dags test` only on a serialized DAG (airflow.md §5). */
export async function reserialize(a: AirflowInstall, env: NodeJS.ProcessEnv): Promise<{ ok: boolean; output: string }> {
  const r = await runFile(a.bin, ['dags', 'reserialize'], { env, timeoutMs: 300_000 });
  return { ok: r.code === 0, output: r.stderr + r.stdout };
}

export interface DagTestResult {
  ok: boolean;
  state: string | null;
  /** The lines the example DAG printed for each resolved connection. */
  resolved: string[];
  output: string;
}

export async function dagsTest(a: AirflowInstall, dagId: string, env: NodeJS.ProcessEnv): Promise<DagTestResult> {
  const r = await runFile(a.bin, ['dags', 'test', dagId], { env, timeoutMs: 600_000 });
  const output = r.stdout + '\n' + r.stderr;
  const states = [...output.matchAll(/DagRun Finished: .*?state=(\w+)/g)].map((m) => m[1] ?? '');
  const state = states[states.length - 1] ?? null;
  const resolved = output.split('\n').filter((l) => l.startsWith('Resolved '));
  return { ok: r.code === 0 && state === 'success', state, resolved, output };
}
