/**
 * Step 8b: ask real Airflow, with the written env and a private AIRFLOW_HOME, for every connection
 * and variable (and, with --check dag, run the example DAG). Airflow hides backend errors behind
 * "isn't defined", so a miss is explained by walking the chain with doctor's checks.
 */
import { selfCommand } from '../ui/invocation.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepError } from '../errors.js';
import { type UriRules } from '../airflow/connection.js';
import { expectedConnection, type StorageFormat } from '../airflow/spec.js';
import { uriRules } from '../airflow/backend.js';
import { parseEnvFile } from '../airflow/templates.js';
import {
  airflowEnv,
  dagsTest,
  initDb,
  metastoreConnectionIds,
  reserialize,
  resolveThroughAirflow,
  type AirflowConnectionView,
  type AirflowInstall,
} from '../airflow/runner.js';
import { buildDoctorContext } from '../doctor/context.js';
import { CHECKS, runChecks } from '../doctor/index.js';
import type { CreateContext } from './context.js';

const CHAIN = ['backend-class', 'backend-kwargs', 'address', 'scheme', 'tls', 'reachable', 'health', 'auth', 'token', 'policy', 'mount', 'connections', 'shadow'];

export function airflowCheckLevel(ctx: CreateContext): 'airflow' | 'dag' | null {
  const c = ctx.settings.check;
  if (c === 'airflow' || c === 'dag') return c;
  return c === 'auto' && (ctx.airflow || ctx.settings.withAirflow) ? 'airflow' : null;
}

export function skipAirflowCheck(ctx: CreateContext): string | undefined {
  if (airflowCheckLevel(ctx)) return undefined;
  return ctx.settings.check === 'auto' ? 'no Airflow found; the Vault-level check stands' : `--check ${ctx.settings.check}`;
}

/** Field names where Airflow's view differs from the seeded URI (the password compared, never shown). */
export function compareWithAirflow(uri: string, a: AirflowConnectionView, rules: UriRules, format: StorageFormat = 'uri'): string[] {
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

/** Why Airflow missed or mangled `id`: the first broken link of the chain, else what Airflow itself said. */
async function explain(ctx: CreateContext, airflow: AirflowInstall, env: NodeJS.ProcessEnv, id: string, airflowSaid: string): Promise<{ why: string; fix?: string }> {
  const dctx = await buildDoctorContext(ctx.paths.dir, process.env, undefined, airflow);
  const results = await runChecks(dctx, CHECKS.filter((c) => CHAIN.includes(c.id)));
  const broken = results.find((r) => r.status === 'fail');
  if (broken) return { why: `${broken.title}: ${broken.detail}`, fix: broken.fix };
  if ((await metastoreConnectionIds(airflow, env)).includes(id)) {
    return { why: `a connection '${id}' in Airflow's metastore (${env.AIRFLOW_HOME}) answers when Vault does not`, fix: `airflow connections delete ${id}` };
  }
  const tail = airflowSaid.trim().split('\n').filter(Boolean).slice(-2).join(' | ');
  return { why: `Vault holds it, but Airflow did not resolve it; Airflow said: ${tail || 'nothing'}`, fix: `${selfCommand()} doctor -v` };
}

export async function checkAirflow(ctx: CreateContext): Promise<void> {
  const level = airflowCheckLevel(ctx)!;
  const airflow = ctx.airflow;
  const s = ctx.settings;
  if (!airflow) {
    throw new StepError('check airflow', `--check ${level} needs Airflow, and none was found`, 'pass --airflow-bin PATH, put airflow on PATH, or add --with-airflow to install it into the sandbox');
  }
  if (airflow.major !== s.airflowVersion) {
    throw new StepError(
      'check airflow',
      `.env is written for Airflow ${s.airflowVersion}, but the Airflow found is ${airflow.version} (${airflow.bin})`,
      `rerun with --airflow-version ${airflow.major} (or --airflow-version auto)`,
    );
  }
  const env = airflowEnv(process.env, parseEnvFile(readFileSync(ctx.paths.env, 'utf8')), join(ctx.paths.stateDir, 'airflow'), s.dagsDir);
  ctx.report.info(`asking Airflow ${airflow.version} (${airflow.bin})`);

  if (airflow.major !== '1.10') {
    let res;
    try {
      res = await resolveThroughAirflow(airflow, s.connections.map((c) => c.id), s.variables.map((v) => v.key), env);
    } catch (e) {
      const first = s.connections[0]?.id ?? '';
      const { why, fix } = await explain(ctx, airflow, env, first, (e as Error).message);
      const said = (e as Error).message.split(' | ').slice(-1)[0]?.trim().slice(0, 240);
      throw new StepError('check airflow', `Airflow did not resolve '${first}': ${why} (Airflow failed before any lookup: ${said})`, fix);
    }
    for (const c of s.connections) {
      const got = res.connections[c.id];
      if (!got || 'error' in got) {
        const { why, fix } = await explain(ctx, airflow, env, c.id, res.log);
        throw new StepError('check airflow', `Airflow did not resolve '${c.id}': ${why}`, fix);
      }
      const diffs = compareWithAirflow(c.uri, got, uriRules(airflow.major), s.format);
      if (diffs.length) {
        const { why, fix } = await explain(ctx, airflow, env, c.id, '');
        throw new StepError('check airflow', `Airflow resolved '${c.id}' with other ${diffs.join(', ')} than was seeded: ${why}`, fix);
      }
      const line = `Airflow resolved ${c.id}: ${got.conn_type} ${got.host ?? ''}${got.port !== null ? `:${got.port}` : ''}, every field as seeded`;
      ctx.airflowChecks.push({ id: c.id, kind: 'connection', ok: true, detail: line });
      ctx.report.info(line);
    }
    for (const v of s.variables) {
      const got = res.variables[v.key];
      if (!got || 'error' in got || got.value !== v.value) {
        const { why, fix } = await explain(ctx, airflow, env, v.key, '');
        throw new StepError('check airflow', `Airflow ${!got || 'error' in got ? 'did not resolve' : 'read another value for'} variable '${v.key}': ${why}`, fix);
      }
      ctx.airflowChecks.push({ id: v.key, kind: 'variable', ok: true, detail: `Airflow read variable ${v.key}` });
    }
  }

  if (level === 'dag') {
    if (!s.dag) throw new StepError('check airflow', '--check dag needs the example DAG, but --no-dag was given', 'drop --no-dag');
    ctx.report.info('initialising the metadata DB in .sandbox/airflow');
    const db = await initDb(airflow, env);
    if (!db.ok) throw new StepError('check airflow', `airflow db migrate failed: ${lastLine(db.output)}`, `see ${env.AIRFLOW_HOME}`);
    if (airflow.major === '3') {
      ctx.report.info('serializing the DAGs (Airflow 3 tests only serialized DAGs)');
      const r = await reserialize(airflow, env);
      if (!r.ok) throw new StepError('check airflow', `airflow dags reserialize failed: ${lastLine(r.output)}`, 'run it by hand with the sandbox env to see why');
    }
    ctx.report.info('running airflow dags test example_secrets_dag');
    const t = await dagsTest(airflow, 'example_secrets_dag', env);
    if (!t.ok) {
      const err = t.output.split('\n').find((l) => /RuntimeError|AirflowNotFoundException|isn't defined|Error:/.test(l));
      throw new StepError('check airflow', `the example DAG ended in state ${t.state ?? 'unknown'}${err ? `: ${err.trim().slice(0, 300)}` : ''}`, `${selfCommand()} doctor names the broken link`);
    }
    ctx.airflowChecks.push({ id: 'example_secrets_dag', kind: 'dag', ok: true, detail: `dag run state=success; ${t.resolved.length} connection(s) resolved in tasks` });
    ctx.report.info(`example_secrets_dag: state=success, ${t.resolved.length} task(s) resolved their connection`);
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 300) ?? '';
}
