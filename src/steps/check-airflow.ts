/**
 * Step 8b: ask real Airflow, in one process (the probe), with exactly the environment the user's
 * Airflow will have (their env plus the written .env; only AIRFLOW_HOME private when theirs would be
 * the defaults), for every connection and variable; with --check dag, also run the example DAG.
 * A miss is explained by doctor's checks, fed Airflow's own answer (no second Airflow start).
 */
import { relative } from 'node:path';
import { StepError } from '../errors.js';
import type { UriRules } from '../airflow/connection.js';
import { expectedConnection, type StorageFormat } from '../airflow/spec.js';
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
import { selfCommand } from '../ui/invocation.js';
import type { CreateContext } from './context.js';
import { airflowCheckLevel } from './airflow-check-level.js';
import { ENV_READ, readUserFile } from '../io/read.js';

export { airflowCheckLevel, skipAirflowCheck } from './airflow-check-level.js';

/** Field names where Airflow's view differs from the seeded URI (the password compared, never shown). */
export function compareWithAirflow(
  uri: string,
  a: ProbeConnection,
  rules: UriRules,
  format: StorageFormat = 'uri',
): string[] {
  // The connection value may be a URI or Airflow's JSON form (src/airflow/spec.ts).
  const e = expectedConnection(uri, format, rules);
  const blank = (v: string | null | undefined) => (v === '' || v === undefined ? null : v);
  const diffs: string[] = [];
  if (blank(e.conn_type) !== blank(a.conn_type)) diffs.push('conn_type');
  if (blank(e.host) !== blank(a.host)) diffs.push('host');
  if (e.port !== a.port) diffs.push('port');
  if (blank(e.login) !== blank(a.login)) diffs.push('login');
  if (blank(e.schema) !== blank(a.schema)) diffs.push('schema');
  // Airflow's ORM stores an empty password as None.
  if (blank(e.password) !== blank(a.password)) diffs.push('password');
  // Airflow's extra text is exactly what the URI rules produce (json.dumps of the query), so compare the text.
  if (blank(e.extra) !== blank(a.extra)) diffs.push('extra');
  return diffs;
}

/** Why Airflow missed: doctor's checks (injected) run on Airflow's answer; the verdict names the first broken link or Airflow's own error. */
async function explain(
  ctx: CreateContext,
  airflow: AirflowInstall,
  probe: ProbeReport,
): Promise<{ why: string; fix?: string }> {
  const d = await ctx.diagnose?.({ dir: ctx.paths.dir, airflow, probe });
  return { why: d?.why ?? 'Airflow did not resolve it', fix: d?.fix };
}

export async function checkAirflow(ctx: CreateContext): Promise<void> {
  const level = airflowCheckLevel(ctx)!;
  const airflow = ctx.airflow;
  const s = ctx.settings;
  if (!airflow) {
    throw new StepError(
      'check airflow',
      `--check ${level} needs Airflow, and none was found`,
      'pass --airflow-bin PATH, put airflow on PATH, or add --with-airflow to install it into the sandbox',
    );
  }
  if (airflow.major !== s.airflowVersion) {
    throw new StepError(
      'check airflow',
      `.env is written for Airflow ${s.airflowVersion}, but the Airflow found is ${airflow.version} (${airflow.bin})`,
      `rerun with --airflow-version ${airflow.major} (or --airflow-version auto)`,
    );
  }
  const env = probeEnv((await userEnvironment(process.env, ctx.paths.env)).env, ctx.paths.airflowHome);

  if (airflow.major !== '1.10') {
    const ids = s.connections.map((c) => c.id);
    const keys = s.variables.map((v) => v.key);
    ctx.report.info(
      `probe: asking Airflow ${airflow.version} (${airflow.bin}) for ${ids.length} connection(s) and ${keys.length} variable(s) in one process`,
    );
    let res: ProbeReport;
    try {
      res = await runProbe(airflow, { connections: ids, variables: keys, allBackends: false }, env);
    } catch (e) {
      const err = e as ProbeError;
      throw new StepError(
        'check airflow',
        `Airflow could not be asked: ${err.message}`,
        `run ${airflow.bin} connections list with the sandbox .env loaded to see why`,
      );
    }
    const failures: string[] = [];
    if (res.init_error)
      failures.push(`Airflow cannot build its secrets backends: ${describeException(res.init_error.chain)}`);
    for (const c of s.connections) {
      const got = res.connections[c.id];
      if (!got || !got.found || !got.conn) {
        failures.push(`Airflow did not resolve '${c.id}'`);
        continue;
      }
      const from = answeredBy(got).answer;
      if (from !== 'VaultBackend') {
        failures.push(`Airflow resolved '${c.id}' from ${backendLabel(from ?? '?')}, not from Vault`);
        continue;
      }
      const diffs = compareWithAirflow(c.uri, got.conn, airflowFeatures(airflow.version).uriRules, s.format);
      if (diffs.length) {
        failures.push(`Airflow resolved '${c.id}' with other ${diffs.join(', ')} than was seeded`);
        continue;
      }
      const line = `Airflow resolved ${c.id} from Vault: ${got.conn.conn_type} ${got.conn.host ?? ''}${got.conn.port !== null ? `:${got.conn.port}` : ''}, every field as seeded`;
      ctx.airflowChecks.push({ id: c.id, kind: 'connection', ok: true, detail: line });
      ctx.report.info(line);
    }
    for (const v of s.variables) {
      const got = res.variables[v.key];
      if (!got || !got.found) failures.push(`Airflow did not resolve variable '${v.key}'`);
      else if (answeredBy(got).answer !== 'VaultBackend')
        failures.push(
          `Airflow read variable '${v.key}' from ${backendLabel(answeredBy(got).answer ?? '?')}, not from Vault`,
        );
      else if (got.value !== v.value)
        failures.push(`Airflow read another value for variable '${v.key}' than was seeded`);
      else
        ctx.airflowChecks.push({
          id: v.key,
          kind: 'variable',
          ok: true,
          detail: `Airflow read variable ${v.key} from Vault`,
        });
    }
    // Airflow 3: a task asks its own first backend ([workers] secrets_backend when set), not the server side's.
    const taskMisses = taskSideMisses(res);
    if (taskMisses.length)
      failures.push(
        `a task would not resolve ${taskMisses.map((id) => `'${id}'`).join(', ')} with the backend it asks first`,
      );
    ctx.report.info(
      `probe: ${res.wallSeconds.toFixed(1)} s (Airflow's import ${(res.timings.import ?? 0).toFixed(1)} s)`,
    );
    if (failures.length) {
      const { why, fix } = await explain(ctx, airflow, res);
      throw new StepError(
        'check airflow',
        `${failures.join('; ')}: ${why}`,
        fix ?? `${selfCommand()} doctor -v shows every backend's answer`,
      );
    }
  }

  if (level === 'dag') {
    if (!s.dag)
      throw new StepError(
        'check airflow',
        '--check dag needs the example DAG, but --no-dag was given',
        'drop --no-dag',
      );
    // The DAG run needs a metadata DB: always a private one, never the user's.
    const dagEnv: NodeJS.ProcessEnv = {
      ...env,
      AIRFLOW_HOME: ctx.paths.airflowHome,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    };
    dagEnv.AIRFLOW__CORE__DAGS_FOLDER ??= s.dagsDir;
    const phases = airflow.major === '3' ? 3 : 2;
    ctx.report.info(
      `phase 1/${phases}: migrate (airflow db migrate into ${relative(process.cwd(), ctx.paths.airflowHome) || ctx.paths.airflowHome})`,
    );
    const db = await initDb(airflow, dagEnv);
    if (!db.ok)
      throw new StepError(
        'check airflow',
        `phase migrate: airflow db migrate failed: ${lastLine(db.output)}`,
        `see ${ctx.paths.airflowHome}`,
      );
    if (airflow.major === '3') {
      ctx.report.info(`phase 2/${phases}: reserialize (Airflow 3 tests only serialized DAGs)`);
      const r = await reserialize(airflow, dagEnv);
      if (!r.ok)
        throw new StepError(
          'check airflow',
          `phase reserialize: airflow dags reserialize failed: ${lastLine(r.output)}`,
          'run it by hand with the sandbox env to see why',
        );
    }
    ctx.report.info(`phase ${phases}/${phases}: test (airflow dags test example_secrets_dag)`);
    const t = await dagsTest(airflow, 'example_secrets_dag', dagEnv);
    if (!t.ok) {
      const err = t.output
        .split('\n')
        .find((l) => /RuntimeError|AirflowNotFoundException|isn't defined|Error:/.test(l));
      throw new StepError(
        'check airflow',
        `phase test: the example DAG ended in state ${t.state ?? 'unknown'}${err ? `: ${err.trim().slice(0, 300)}` : ''}`,
        'create-secrets-sandbox doctor names the broken link',
      );
    }
    ctx.airflowChecks.push({
      id: 'example_secrets_dag',
      kind: 'dag',
      ok: true,
      detail: `dag run state=success; ${t.resolved.length} connection(s) resolved in tasks`,
    });
    ctx.report.info(`example_secrets_dag: state=success, ${t.resolved.length} task(s) resolved their connection`);
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 300) ?? '';
}
