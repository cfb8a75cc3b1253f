/**
 * Step 8: resolve every connection the way Airflow's VaultBackend does, with the settings Airflow
 * will actually get: url, token, mount, connections_path and kv_engine_version are read back from
 * the written .env, not from memory, so a wrong env file fails here and not in Airflow.
 */
import { selfCommand } from '../ui/invocation.js';
import { StepError } from '../errors.js';
import {
  describeConnection,
  diffConnections,
  parseConnectionUri,
  type AirflowConnection,
  type UriRules,
} from '../airflow/connection.js';
import { expectedConnection } from '../airflow/spec.js';
import {
  airflowFeatures,
  constructionError,
  describeSource,
  firstPath,
  readBackendWithEnvFile,
  secretPath,
  vaultAccess,
  type BackendRead,
} from '../airflow/backend/index.js';
import { VaultError } from '../vault/client.js';
import { authFromKwargs, type AuthSpec } from '../vault/auth/index.js';
import { checkExisting, loginAsAirflow, lookupFailure, readVariablesAsAirflow } from './check-auth.js';
import type { CheckResult, CreateContext } from './context.js';
import { ENV_READ, readUserFile } from '../io/read.js';

/** The lookup the create flow's check repeats: where Airflow's VaultBackend reads, and how it logs in. */
export interface AirflowLookup {
  url: string;
  /** The token Airflow sends with token auth; '' with another auth method (see `auth`). */
  token: string;
  /** How the provider logs in with these kwargs (src/vault/auth). */
  auth: AuthSpec;
  /** `verify` when it is a CA path; `namespace`. */
  caFile?: string;
  namespace?: string;
  variablesPath: string;
  mount: string;
  connectionsPath: string;
  kvVersion: 1 | 2;
}

/** What stops Airflow from using these settings, in Airflow's order, as one line; null when nothing does. */
function settingsProblem(read: BackendRead, env: Map<string, string>): string | null {
  if (!read.settings.classPath) return 'no secrets backend is set (AIRFLOW__SECRETS__BACKEND)';
  const p = read.problems[0];
  if (p) {
    const from = p.source ? ` (${describeSource(p.source)})` : '';
    const effect = p.effect === 'dropped' ? ': Airflow would silently use no kwargs' : '';
    return `${p.option}${from} ${p.message}${effect}`;
  }
  if (read.kwargsText === undefined && Object.keys(read.kwargs).length === 0)
    return 'AIRFLOW__SECRETS__BACKEND_KWARGS is not set';
  const built = read.features.major === '1.10' ? null : constructionError(read.kwargs, env);
  return built ? `VaultBackend cannot be built: ${built}` : null;
}

/** The lookup Airflow would do with the settings it reads, or a description of what is wrong. */
export function lookupFromSettings(read: BackendRead, env: Map<string, string>): AirflowLookup | string {
  const problem = settingsProblem(read, env);
  if (problem) return problem;
  const kw = read.kwargs;
  const access = vaultAccess(kw, env);
  if (access.urlFrom === 'hvac default') return 'no url in the kwargs and no VAULT_ADDR';
  const auth = authFromKwargs(kw, env);
  if (typeof auth === 'string') return auth;
  if (access.mount === null) return 'mount_point is null: this check reads a fixed mount';
  const connectionsPath = firstPath(read.settings.kwargs.connections_path, 'connections');
  const variablesPath = firstPath(read.settings.kwargs.variables_path, 'variables');
  if (connectionsPath === null || variablesPath === null)
    return 'connections_path or variables_path is null: Airflow would never ask Vault';
  return {
    url: access.url,
    token: auth.method === 'token' && 'token' in auth ? auth.token : '',
    auth,
    ...(typeof access.verify === 'string' ? { caFile: access.verify } : {}),
    ...(access.namespace ? { namespace: access.namespace } : {}),
    variablesPath,
    mount: access.mount,
    connectionsPath,
    kvVersion: access.kvVersion,
  };
}

/** What VaultBackend builds from a secret: `conn_uri` when present, else the Connection fields. */
export function connectionFromSecret(data: Record<string, unknown>, rules: UriRules = '3'): AirflowConnection {
  if (typeof data.conn_uri === 'string' && data.conn_uri) return parseConnectionUri(data.conn_uri, rules);
  const str = (k: string) => (data[k] === undefined || data[k] === null ? null : String(data[k]));
  const port = data.port === undefined || data.port === null || data.port === '' ? null : Number(data.port);
  const extra =
    data.extra === undefined || data.extra === null
      ? null
      : typeof data.extra === 'string'
        ? data.extra
        : JSON.stringify(data.extra);
  return {
    conn_type: String(data.conn_type ?? ''),
    host: str('host') ?? '',
    port: Number.isNaN(port) ? null : port,
    login: str('login'),
    password: str('password'),
    schema: str('schema') ?? '',
    extra,
  };
}

export async function check(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  // The settings as Airflow reads them once the user has loaded the written .env into this shell.
  const { user, read } = await readBackendWithEnvFile(ctx.paths.env, {
    version: ctx.airflow?.version ?? s.airflowVersion,
  });
  const backend = lookupFromSettings(read, user.env);
  if (typeof backend === 'string') {
    throw new StepError('check', `.env would not work for Airflow: ${backend}`, 'rerun with --force to rewrite .env');
  }
  // Logged in exactly as the provider will (a token as is, AppRole through its login), over the same TLS and namespace.
  const client = await loginAsAirflow(ctx, backend);
  if (s.existing && !s.existing.seed) {
    const rules = airflowFeatures(s.airflowVersion).uriRules;
    return checkExisting(
      ctx,
      backend,
      client,
      (id, data) => `Using connection to: ${describeConnection(id, connectionFromSecret(data, rules))}`,
    );
  }
  const results: CheckResult[] = [];
  for (const c of s.connections) {
    const path = secretPath(backend.connectionsPath, c.id);
    let data: Record<string, unknown> | null;
    try {
      data = await client.readSecret(backend.mount, path, backend.kvVersion);
    } catch (e) {
      if (backend.auth.method !== 'token') throw await lookupFailure(ctx, backend, `${backend.mount}/${path}`, c.id, e);
      const m = (e as Error).message;
      const why = refusesToken(e) ? `the server refuses the token in .env (${m})` : m;
      throw new StepError('check', `Airflow's lookup of '${c.id}' would fail: ${why}`, fixForLookup(e));
    }
    if (!data) {
      throw new StepError(
        'check',
        `Airflow would not find '${c.id}': nothing at ${backend.mount}/${path}`,
        'rerun the create command; check connections_path and mount_point in .env',
      );
    }
    const rules = airflowFeatures(s.airflowVersion).uriRules;
    const actual = connectionFromSecret(data, rules);
    const expected = expectedConnection(c.uri, s.format, rules);
    const mismatched = diffConnections(expected, actual);
    const line = `Using connection to: ${describeConnection(c.id, actual)}`;
    results.push({ id: c.id, ok: mismatched.length === 0, line, mismatched });
    ctx.report.info(line);
  }
  await readVariablesAsAirflow(ctx, backend, client);
  ctx.checks = results;
  const bad = results.filter((r) => !r.ok);
  if (bad.length) {
    const list = bad.map((r) => `'${r.id}' (${r.mismatched.join(', ')})`).join('; ');
    throw new StepError(
      'check',
      `what Airflow would read differs from what was seeded: ${list}`,
      'rerun with --force to reseed and rewrite .env',
    );
  }
}

const refusesToken = (e: unknown) => e instanceof VaultError && e.kind === 'http' && e.status === 403;

function fixForLookup(e: unknown): string {
  if (refusesToken(e)) return 'the token in .env is not valid for this server: rerun with --force to rewrite .env';
  if (e instanceof VaultError && e.kind === 'refused') return `the server is not running: run ${selfCommand()} up`;
  return `run ${selfCommand()} doctor to find the broken link`;
}
