/**
 * Runs set-ups: builds each (base, operators, files), asks real Airflow for its verdict, runs doctor
 * with Airflow on PATH and without, and for a broken set-up follows doctor's first fix (commands
 * run as printed, key edits applied) up to three rounds, asking Airflow after each. Every process a
 * set-up started (its server, a server `up` started) runs under its dir and is killed after it.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CLI, ROOT, scaled } from '../env.js';
import { cleanup, runProcess, workspace, type Workspace } from '../sandbox.js';
import { AirflowOracle } from '../airflow-oracle.js';
import { airflowVerdict, sourcedEnv, type AirflowVerdict } from './airflow-verdict.js';
import { baseFacts, killUnder, manualBase, toolBase } from './bases.js';

export { killUnder };
import { doctorSays, type DoctorSays } from './doctor-says.js';
import { applyFix, type UserKnows } from './fix.js';
import { opById, type SetUpSpec } from './generate.js';
import { field } from './vault-http.js';
import { uriOf } from './conns.js';
import type { Major, World } from './world.js';

export const AIRFLOW_BIN: Record<Major, string> = {
  '3': join(ROOT, '.venvs', 'airflow3', 'bin'),
  '2': join(ROOT, '.venvs', 'airflow2', 'bin'),
};

export interface FixStep {
  fix: string;
  how: 'edit' | 'command';
  ok: boolean;
  why?: string;
}

export interface Row {
  spec: SetUpSpec;
  airflow: AirflowVerdict;
  withAirflow: DoctorSays;
  without: DoctorSays;
  /** Airflow asked again after doctor ran (set-ups doctor could change, e.g. a token with limited uses). */
  after?: AirflowVerdict;
  fix?: { resolved: boolean; rounds: number; steps: FixStep[]; why?: string };
  ms: { build: number; airflow: number; doctorWith: number; doctorWithout: number; fix: number };
  /** The set-up could not be built (the corpus's own failure). */
  error?: string;
}

export interface Corpus {
  ws: Workspace;
  bin: string;
  /** Holds `create-secrets-sandbox`, linked to the built CLI, first on every PATH (as npm installs it). */
  binDir: string;
  oracles: Partial<Record<Major, AirflowOracle>>;
}

export async function startCorpus(serverBin: string, majors: Major[]): Promise<Corpus> {
  const ws = workspace(serverBin);
  const binDir = join(ws.root, 'bin');
  mkdirSync(binDir);
  symlinkSync(CLI, join(binDir, 'create-secrets-sandbox'));
  ws.env.PATH = `${binDir}${delimiter}${ws.env.PATH ?? ''}`;
  const c: Corpus = { ws, bin: serverBin, binDir, oracles: {} };
  const started = await Promise.allSettled(
    [...new Set(majors)].map(async (m) => {
      c.oracles[m] = await AirflowOracle.start(AIRFLOW_BIN[m], {
        env: { ...ws.env, PATH: `${AIRFLOW_BIN[m]}${delimiter}${ws.env.PATH}` },
        cwd: ws.root,
        shimDir: process.env.CORPUS_NO_SHIM ? undefined : join(ws.root, `airflow${m}`),
      });
    }),
  );
  for (const r of started)
    if (r.status === 'rejected') {
      await stopCorpus(c);
      throw r.reason;
    }
  return c;
}

/** Stops the oracles and whatever is left under the workspace; returns what had to be killed. */
export async function stopCorpus(c: Corpus): Promise<number[]> {
  for (const o of Object.values(c.oracles)) await o?.close();
  const left = killUnder(c.ws.root);
  cleanup(c.ws);
  return left;
}

export async function build(c: Corpus, spec: SetUpSpec): Promise<World> {
  const w =
    spec.base.kind === 'tool'
      ? await toolBase(c.ws, spec.n, spec.major, spec.base)
      : await manualBase(c.ws, c.bin, spec.n, spec.major, spec.base);
  // The facts are walked again as the operators apply: each sees the facts before it, as simulated.
  let f = baseFacts(spec.major, spec.base);
  for (const id of spec.ops) {
    const o = opById(id);
    await o.apply(w, f, { ws: c.ws, bin: c.bin });
    f = { ...f, ...o.facts?.(f), applied: [...f.applied, id] };
  }
  w.write();
  return w;
}

/** The user's shell: the workspace's environment (PATH with the server binary and the CLI), plus the set-up's. */
function userShell(c: Corpus, w: World): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.ws.env)) if (v !== undefined) env[k] = v;
  return { ...env, ...w.shell };
}

/**
 * Doctor as the user runs it, from their shell; with Airflow on PATH: the oracle's stand-in for the
 * venv (same interpreter, same site-packages, the preloaded start), else the venv's own bin.
 */
async function doctor(c: Corpus, w: World, major: Major | undefined): Promise<DoctorSays> {
  const shell = w.doctorSourced ? await sourcedEnv(userShell(c, w), w.dir) : userShell(c, w);
  const airflowDir = major ? (c.oracles[major]?.shimDir ?? AIRFLOW_BIN[major]) : undefined;
  const env = airflowDir ? { ...shell, PATH: `${airflowDir}${delimiter}${shell.PATH}` } : shell;
  const r = await runProcess(join(c.binDir, 'create-secrets-sandbox'), ['doctor', w.dir, '--json'], {
    cwd: c.ws.cwd,
    env,
    timeoutMs: scaled(major ? 180_000 : 60_000),
  });
  return doctorSays(r);
}

async function timed<T>(ms: Row['ms'], key: keyof Row['ms'], f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    ms[key] += Math.round(performance.now() - t0);
  }
}

export async function runSetUp(c: Corpus, spec: SetUpSpec): Promise<Row> {
  const oracle = c.oracles[spec.major];
  if (!oracle) throw new Error(`no Airflow ${spec.major} oracle started`);
  const ms = { build: 0, airflow: 0, doctorWith: 0, doctorWithout: 0, fix: 0 };
  const dir = join(c.ws.root, `setup-${spec.n}`);
  try {
    const w = await timed(ms, 'build', () => build(c, spec));
    const ask = async (): Promise<AirflowVerdict> =>
      airflowVerdict(w, oracle, await sourcedEnv(userShell(c, w), w.dir));
    await timed(ms, 'build', async () => {
      const env = await sourcedEnv(userShell(c, w), w.dir);
      for (const args of w.airflowPrep) {
        const r = await oracle.run(args, { env, cwd: w.dir, timeoutMs: scaled(200_000) });
        if (r.code !== 0) throw new Error(`corpus set-up: airflow ${args.join(' ')}: ${r.stderr.slice(-600)}`);
      }
    });
    const airflow = await timed(ms, 'airflow', ask);
    const withAirflow = await timed(ms, 'doctorWith', () => doctor(c, w, spec.major));
    const without = await timed(ms, 'doctorWithout', () => doctor(c, w, undefined));
    const row: Row = { spec, airflow, withAirflow, without, ms };
    if (w.consumable) row.after = await timed(ms, 'airflow', ask);
    if (!airflow.ok) row.fix = await timed(ms, 'fix', () => followFixes(c, w, spec.major, withAirflow, ask));
    return row;
  } catch (e) {
    const none: DoctorSays = { code: -1, verdict: 'none', decided: false, detail: '', failing: [] };
    return {
      spec,
      airflow: { ok: false, ids: [], said: '' },
      withAirflow: none,
      without: none,
      ms,
      error: e instanceof Error ? e.message : String(e),
    };
  } finally {
    killUnder(dir);
  }
}

/** Doctor's first fix, applied, then Airflow asked; up to three rounds, each with doctor's fix for what is left. */
async function followFixes(
  c: Corpus,
  w: World,
  major: Major,
  first: DoctorSays,
  ask: () => Promise<AirflowVerdict>,
): Promise<NonNullable<Row['fix']>> {
  const steps: FixStep[] = [];
  let says = first;
  for (let round = 1; round <= 3; round++) {
    const fix = says.fix;
    if (!fix) return { resolved: false, rounds: round, steps, why: `no fix printed (${says.detail.slice(0, 160)})` };
    if (steps.some((s) => s.fix === fix))
      return { resolved: false, rounds: round, steps, why: 'the same fix printed again: it did not work' };
    // The user's shell has the sandbox .env loaded (the tool says to); the admin token of the
    // server they run is at hand (the tool prints it with --show-token).
    const before = await sourcedEnv(userShell(c, w), w.dir);
    before.VAULT_TOKEN ??= w.server.token;
    before.BAO_TOKEN ??= w.server.token;
    const applied = await applyFix(fix, before, c.ws.cwd, userKnows(w));
    steps.push({ fix, how: applied.how, ok: applied.ok, why: applied.why });
    if (!applied.ok)
      return { resolved: false, rounds: round, steps, why: `the fix could not be followed: ${applied.why}` };
    keepShellChanges(w, before, applied.shell);
    if ((await ask()).ok) return { resolved: true, rounds: round, steps };
    if (round < 3) says = await doctor(c, w, major);
  }
  return { resolved: false, rounds: 3, steps, why: 'Airflow still fails after three fixes' };
}

/**
 * What this set-up's user knows where a fix leaves it to them: the kwargs they meant, a token of the
 * server they started (its admin token), the userpass password and role_id they set up, a secret_id
 * they make anew.
 */
function userKnows(w: World): UserKnows {
  const mount = w.knows.approleMount;
  return {
    kwargs: w.meantKwargs,
    token: w.server.token,
    address: w.server.url,
    caFile: w.server.caFile,
    password: w.knows.password,
    roleId: w.knows.roleId,
    connUri: w.conns[0] ? uriOf(w.conns[0].intent) : undefined,
    varValue: w.vars[0]?.value,
    secretId: mount
      ? async () =>
          field(
            await w.vault('POST', `auth/${mount}/role/airflow/secret-id`, {}, { namespace: w.store.namespace }),
            'secret_id',
          )
      : undefined,
  };
}

/** What a fix command exported or unset stays in the user's shell. */
function keepShellChanges(w: World, before: Record<string, string>, after: Record<string, string>): void {
  for (const [k, v] of Object.entries(after)) if (before[k] !== v) w.shell[k] = v;
  for (const k of Object.keys(before)) if (!(k in after)) delete w.shell[k];
}
