/**
 * The Airflow components a real run needs, per major, and how each says it is ready.
 *  - Airflow 3: `api-server` (the UI, the REST API and the execution API tasks report to),
 *    `scheduler` (with the LocalExecutor, which starts each task under a supervisor) and
 *    `dag-processor` (parses and serializes the DAG). The API server's /api/v2/monitor/health
 *    answers for all three: the scheduler and the DAG processor by their latest heartbeat.
 *  - Airflow 2.11: `scheduler` (it parses DAGs itself and runs tasks with the SequentialExecutor,
 *    the one executor SQLite allows), serving its own /health; the `webserver` only when asked.
 * Every listener is on 127.0.0.1, on ports chosen free for this run.
 */
import type { AirflowVersion } from '../backend/index.js';

export type ComponentName = 'api-server' | 'scheduler' | 'dag-processor' | 'webserver';

/** How a user knows each component. */
export const COMPONENT_LABEL: Record<ComponentName, string> = {
  'api-server': 'API server',
  scheduler: 'scheduler',
  'dag-processor': 'dag-processor',
  webserver: 'webserver',
};

export interface ComponentSpec {
  name: ComponentName;
  /** Arguments of the airflow command. */
  args: string[];
  /** The port it listens on, when it listens (its health server's for the 2.11 scheduler). */
  port?: number;
}

export interface HealthEndpoint {
  url: string;
  /** The components this answer shows ready; `sinceMs`: heartbeats older than this run are a previous run's. */
  ready(status: number, body: string, sinceMs: number): ComponentName[];
}

export interface RunPorts {
  /** Airflow 3: the API server. */
  api?: number;
  /** Airflow 2.11: the scheduler's health server. */
  schedulerHealth?: number;
  /** Airflow 2.11 with the UI: the webserver. */
  web?: number;
}

export interface ComponentPlan {
  components: ComponentSpec[];
  health: HealthEndpoint[];
  /** The UI's address, when one of the components serves it. */
  uiUrl?: string;
}

const loopback = (port: number) => `http://127.0.0.1:${port}`;

/** A heartbeat reported by the API server's monitor, newer than the run's start. */
function freshHeartbeat(entry: unknown, key: string, sinceMs: number): boolean {
  if (!entry || typeof entry !== 'object') return false;
  const e = entry as Record<string, unknown>;
  const at = typeof e[key] === 'string' ? Date.parse(e[key] as string) : Number.NaN;
  return e.status === 'healthy' && at >= sinceMs;
}

/** Airflow 3's monitor: 200 from the API server itself; the scheduler and DAG processor by heartbeat. */
export function monitorReady(status: number, body: string, sinceMs: number): ComponentName[] {
  if (status !== 200) return [];
  const ready: ComponentName[] = ['api-server'];
  let health: Record<string, unknown> = {};
  try {
    health = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return ready;
  }
  if (freshHeartbeat(health.scheduler, 'latest_scheduler_heartbeat', sinceMs)) ready.push('scheduler');
  if (freshHeartbeat(health.dag_processor, 'latest_dag_processor_heartbeat', sinceMs)) ready.push('dag-processor');
  return ready;
}

export function componentPlan(major: Exclude<AirflowVersion, '1.10'>, ports: RunPorts): ComponentPlan {
  if (major === '3') {
    const api = required(ports.api, 'the API server port');
    return {
      components: [
        { name: 'api-server', args: ['api-server', '--host', '127.0.0.1', '--port', String(api)], port: api },
        // Task logs are read from the shared AIRFLOW_HOME: no log server on the scheduler.
        { name: 'scheduler', args: ['scheduler', '--skip-serve-logs'] },
        { name: 'dag-processor', args: ['dag-processor'] },
      ],
      health: [{ url: `${loopback(api)}/api/v2/monitor/health`, ready: monitorReady }],
      uiUrl: loopback(api),
    };
  }
  const hp = required(ports.schedulerHealth, "the scheduler's health port");
  const plan: ComponentPlan = {
    components: [{ name: 'scheduler', args: ['scheduler', '--skip-serve-logs'], port: hp }],
    health: [{ url: `${loopback(hp)}/health`, ready: (status) => (status === 200 ? ['scheduler'] : []) }],
  };
  if (ports.web !== undefined) {
    plan.components.push({
      name: 'webserver',
      args: ['webserver', '--hostname', '127.0.0.1', '--port', String(ports.web), '--workers', '1'],
      port: ports.web,
    });
    plan.health.push({ url: `${loopback(ports.web)}/health`, ready: (s) => (s === 200 ? ['webserver'] : []) });
    plan.uiUrl = loopback(ports.web);
  }
  return plan;
}

function required(port: number | undefined, what: string): number {
  if (port === undefined) throw new Error(`componentPlan: ${what} is missing`);
  return port;
}

/** Names of the settings that decide where Airflow keeps its database (the run's must be private). */
const DB_SETTINGS = ['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', 'AIRFLOW__CORE__SQL_ALCHEMY_CONN'];

export interface RunEnvOptions {
  major: Exclude<AirflowVersion, '1.10'>;
  /** The private AIRFLOW_HOME. */
  home: string;
  dagsFolder: string;
  ports: RunPorts;
  /** How many tasks may run at once (the example DAG has one task per connection). */
  parallelism: number;
  /** Set in every component's environment, and so in every process it starts: how they are proven ours. */
  marks: Record<string, string>;
}

/**
 * The components' environment: the user's with the sandbox .env applied, and on top what must be
 * the run's own: a private home, config file and database (never the user's metastore: a scheduler
 * there would run their DAGs), the sandbox's DAG folder, the executor, loopback ports, no examples.
 */
export function runEnv(base: NodeJS.ProcessEnv, o: RunEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.AIRFLOW_CONFIG;
  for (const name of DB_SETTINGS) for (const suffix of ['', '_CMD', '_SECRET']) delete env[name + suffix];
  Object.assign(env, {
    AIRFLOW_HOME: o.home,
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${o.home}/airflow.db`,
    AIRFLOW__CORE__DAGS_FOLDER: o.dagsFolder,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    ...o.marks,
  });
  if (o.major === '3') {
    const api = loopback(required(o.ports.api, 'the API server port'));
    Object.assign(env, {
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__PARALLELISM: String(o.parallelism),
      AIRFLOW__API__BASE_URL: api,
      AIRFLOW__API__WORKERS: '1',
      AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `${api}/execution/`,
    });
  } else {
    Object.assign(env, {
      AIRFLOW__CORE__EXECUTOR: 'SequentialExecutor',
      AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK: 'True',
      AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST: '127.0.0.1',
      AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT: String(
        required(o.ports.schedulerHealth, "the scheduler's health port"),
      ),
    });
    if (o.ports.web !== undefined)
      Object.assign(env, { AIRFLOW__WEBSERVER__BASE_URL: loopback(o.ports.web), AIRFLOW__WEBSERVER__WORKERS: '1' });
  }
  return env;
}
