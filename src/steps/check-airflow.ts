/**
 * Step 8b: ask real Airflow, in one process (the probe), with exactly the environment the user's
 * Airflow will have (their env plus the written .env; only AIRFLOW_HOME private when theirs would be
 * the defaults), for every connection and variable; with --check dag, also run the example DAG.
 * A miss is explained by doctor's checks, fed Airflow's own answer (no second Airflow start).
 */
import { relative } from 'node:path';
import { StepError } from '../errors.js';
import type { UriRules } from '../airflow/connection.js';
import { fieldsThatDiffer, type StorageFormat } from '../airflow/spec.js';
import { airflowFeatures } from '../airflow/backend/index.js';
import { userEnvironment } from '../airflow/backend/index.js';
import { dagsTest, initDb, reserialize, type AirflowInstall } from '../airflow/runner.js';
import {
  answeredBy,
  backendLabel,
  describeException,
  probeEnv,
  type ProbeError,
  runProbe,
  type ProbeConnection,
  type ProbeReport,
  taskSideMisses,
} from '../airflow/probe.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { type AirflowCheck, defineStep, type FlowContext } from './context.js';
import { airflowCheckLevel, skipAirflowCheck } from './airflow-check-level.js';

/** Field names where Airflow's view differs from the seeded URI (the password compared, never shown). */
export function compareWithAirflow(
  uri: string,
  a: ProbeConnection,
  rules: UriRules,
  format: StorageFormat = 'uri',
): string[] {
  return fieldsThatDiffer(uri, a, rules, format);
}

/** Why Airflow missed: doctor's checks run on Airflow's answer; the verdict names the first broken link or Airflow's own error. */
async function explain(
  ctx: FlowContext,
  airflow: AirflowInstall,
  probe: ProbeReport,
): Promise<{ why: string; fix?: string }> {
  const d = await ctx.services.diagnose({ dir: ctx.paths.dir, airflow, probe });
  return { why: d?.why ?? 'Airflow did not resolve it', fix: d?.fix };
}

const STEP = 'check airflow';

/** Airflow's answer for each seeded connection, against what was seeded: its line, or what is wrong. */
function judgeConnections(ctx: FlowContext, airflow: AirflowInstall, res: ProbeReport, out: Verdicts): void {
  const s = ctx.settings;
  for (const c of s.connections) {
    const got = res.connections[c.id];
    if (!got?.found || !got.conn) {
      out.failures.push(`Airflow did not resolve '${c.id}'`);
      continue;
    }
    const from = answeredBy(got).answer;
    if (from !== 'VaultBackend') {
      out.failures.push(`Airflow resolved '${c.id}' from ${backendLabel(from ?? '?')}, not from Vault`);
      continue;
    }
    const diffs = compareWithAirflow(c.uri, got.conn, airflowFeatures(airflow.version).uriRules, s.format);
    if (diffs.length) {
      out.failures.push(`Airflow resolved '${c.id}' with other ${diffs.join(', ')} than was seeded`);
      continue;
    }
    const port = got.conn.port !== null ? `:${got.conn.port}` : '';
    const line = `Airflow resolved ${c.id} from Vault: ${got.conn.conn_type} ${got.conn.host ?? ''}${port}, every field as seeded`;
    out.passed.push({ id: c.id, kind: 'connection', ok: true, detail: line });
    ctx.report.info(line);
  }
}

function judgeVariables(ctx: FlowContext, res: ProbeReport, out: Verdicts): void {
  for (const v of ctx.settings.variables) {
    const got = res.variables[v.key];
    const from = got ? answeredBy(got).answer : undefined;
    if (!got?.found) out.failures.push(`Airflow did not resolve variable '${v.key}'`);
    else if (from !== 'VaultBackend')
      out.failures.push(`Airflow read variable '${v.key}' from ${backendLabel(from ?? '?')}, not from Vault`);
    else if (got.value !== v.value)
      out.failures.push(`Airflow read another value for variable '${v.key}' than was seeded`);
    else
      out.passed.push({ id: v.key, kind: 'variable', ok: true, detail: `Airflow read variable ${v.key} from Vault` });
  }
}

interface Verdicts {
  passed: AirflowCheck[];
  failures: string[];
}

/** One probe process in the user's Airflow for every seeded id; a miss is explained by doctor. */
async function probeSeeded(ctx: FlowContext, airflow: AirflowInstall, env: NodeJS.ProcessEnv): Promise<AirflowCheck[]> {
  const s = ctx.settings;
  const ids = s.connections.map((c) => c.id);
  const keys = s.variables.map((v) => v.key);
  const asking = `asking Airflow ${airflow.version} (${airflow.bin}) for ${ids.length} connection(s) and ${keys.length} variable(s)`;
  ctx.report.info(`probe: ${asking} in one process`);
  let res: ProbeReport;
  try {
    res = await runProbe(airflow, { connections: ids, variables: keys }, env);
  } catch (e) {
    const fix = `run ${airflow.bin} connections list with the sandbox .env loaded to see why`;
    throw new StepError(STEP, `Airflow could not be asked: ${(e as ProbeError).message}`, fix);
  }
  const out: Verdicts = { passed: [], failures: [] };
  if (res.init_error)
    out.failures.push(`Airflow cannot build its secrets backends: ${describeException(res.init_error.chain)}`);
  judgeConnections(ctx, airflow, res, out);
  judgeVariables(ctx, res, out);
  // Airflow 3: a task asks its own first backend ([workers] secrets_backend when set), not the server side's.
  const taskMisses = taskSideMisses(res);
  if (taskMisses.length)
    out.failures.push(
      `a task would not resolve ${taskMisses.map((id) => `'${id}'`).join(', ')} with the backend it asks first`,
    );
  ctx.report.info(
    `probe: ${res.wallSeconds.toFixed(1)} s (Airflow's import ${(res.timings.import ?? 0).toFixed(1)} s)`,
  );
  if (out.failures.length) {
    const { why, fix } = await explain(ctx, airflow, res);
    const fallback = `${selfCommand()} doctor -v ${shellArg(ctx.paths.dir)} (shows every backend's answer)`;
    throw new StepError(STEP, `${out.failures.join('; ')}: ${why}`, fix ?? fallback);
  }
  return out.passed;
}

/** --check dag: the example DAG run by `airflow dags test` in a private Airflow home (never the user's db). */
async function testDag(ctx: FlowContext, airflow: AirflowInstall, env: NodeJS.ProcessEnv): Promise<AirflowCheck> {
  const s = ctx.settings;
  if (!s.dag) throw new StepError(STEP, '--check dag needs the example DAG, but --no-dag was given', 'drop --no-dag');
  const home = ctx.paths.airflowHome;
  const dagEnv: NodeJS.ProcessEnv = { ...env, AIRFLOW_HOME: home, AIRFLOW__CORE__LOAD_EXAMPLES: 'False' };
  dagEnv.AIRFLOW__CORE__DAGS_FOLDER ??= s.dagsDir;
  const phases = airflow.major === '3' ? 3 : 2;
  ctx.report.info(`phase 1/${phases}: migrate (airflow db migrate into ${relative(process.cwd(), home) || home})`);
  const db = await initDb(airflow, dagEnv);
  if (!db.ok)
    throw new StepError(STEP, `phase migrate: airflow db migrate failed: ${lastLine(db.output)}`, `see ${home}`);
  if (airflow.major === '3') {
    ctx.report.info(`phase 2/${phases}: reserialize (Airflow 3 tests only serialized DAGs)`);
    const r = await reserialize(airflow, dagEnv);
    if (!r.ok) {
      const fix = 'run it by hand with the sandbox env to see why';
      throw new StepError(STEP, `phase reserialize: airflow dags reserialize failed: ${lastLine(r.output)}`, fix);
    }
  }
  ctx.report.info(`phase ${phases}/${phases}: test (airflow dags test example_secrets_dag)`);
  const t = await dagsTest(airflow, 'example_secrets_dag', dagEnv);
  if (!t.ok) {
    const err = t.output.split('\n').find((l) => /RuntimeError|AirflowNotFoundException|isn't defined|Error:/.test(l));
    const said = err ? `: ${err.trim().slice(0, 300)}` : '';
    const fix = 'create-secrets-sandbox doctor names the broken link';
    throw new StepError(STEP, `phase test: the example DAG ended in state ${t.state ?? 'unknown'}${said}`, fix);
  }
  ctx.report.info(`example_secrets_dag: state=success, ${t.resolved.length} task(s) resolved their connection`);
  const detail = `dag run state=success; ${t.resolved.length} connection(s) resolved in tasks`;
  return { id: 'example_secrets_dag', kind: 'dag', ok: true, detail };
}

/** The Airflow this check may ask: found, and of the major the .env is written for. */
function airflowToAsk(ctx: FlowContext, level: string): AirflowInstall {
  const { airflow, settings: s } = ctx;
  if (!airflow) {
    const fix = 'pass --airflow-bin PATH, put airflow on PATH, or add --with-airflow to install it into the sandbox';
    throw new StepError(STEP, `--check ${level} needs Airflow, and none was found`, fix);
  }
  if (airflow.major !== s.airflowVersion) {
    throw new StepError(
      STEP,
      `.env is written for Airflow ${s.airflowVersion}, but the Airflow found is ${airflow.version} (${airflow.bin})`,
      `rerun with --airflow-version ${airflow.major} (or --airflow-version auto)`,
    );
  }
  return airflow;
}

async function checkAirflow(ctx: FlowContext) {
  const level = airflowCheckLevel(ctx);
  if (!level) return {};
  const airflow = airflowToAsk(ctx, level);
  const env = probeEnv((await userEnvironment(ctx.services.env, ctx.paths.env)).env, ctx.paths.airflowHome);
  const airflowChecks = airflow.major === '1.10' ? [] : await probeSeeded(ctx, airflow, env);
  if (level === 'dag') airflowChecks.push(await testDag(ctx, airflow, env));
  return { airflowChecks };
}

export const checkAirflowStep = defineStep({
  title: 'Resolve each connection through real Airflow',
  needs: [],
  plan: (ctx) => ({
    lines: [
      `would ask Airflow ${ctx.airflow?.version ?? '(the one installed)'} for each connection (--check ${ctx.settings.check})`,
    ],
  }),
  run: checkAirflow,
  skip: skipAirflowCheck,
});

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 300) ?? '';
}
