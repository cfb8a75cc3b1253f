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
import { secretPath, uriRules } from '../airflow/backend.js';
import { parseEnvFile } from '../airflow/templates.js';
import { VaultClient } from '../vault/client.js';
import { authFromKwargs, type AuthSpec } from '../vault/auth/index.js';
import { checkExisting, loginAsAirflow, lookupFailure, readVariablesAsAirflow } from './check-auth.js';
import type { CheckResult, CreateContext } from './context.js';
import { ENV_READ, readUserFile } from '../io/read.js';

export interface BackendSettings {
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

/** The VaultBackend settings an env file gives Airflow; a description of what is wrong otherwise. */
export function backendFromEnv(text: string): BackendSettings | string {
  const env = parseEnvFile(text);
  const raw = env.get('AIRFLOW__SECRETS__BACKEND_KWARGS');
  if (raw === undefined) return 'AIRFLOW__SECRETS__BACKEND_KWARGS is not set';
  let kw: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return 'AIRFLOW__SECRETS__BACKEND_KWARGS is not a JSON object (Airflow would drop it)';
    kw = v as Record<string, unknown>;
  } catch {
    return 'AIRFLOW__SECRETS__BACKEND_KWARGS is not valid JSON (Airflow would silently use no kwargs)';
  }
  const url = typeof kw.url === 'string' ? kw.url : env.get('VAULT_ADDR');
  if (!url) return 'no url in the kwargs and no VAULT_ADDR';
  const auth = authFromKwargs(kw, env);
  if (typeof auth === 'string') return auth;
  const kv = kw.kv_engine_version ?? 2;
  if (kv !== 1 && kv !== 2) return `kv_engine_version is ${JSON.stringify(kv)}; VaultBackend wants the number 1 or 2`;
  return {
    url,
    token: auth.method === 'token' && 'token' in auth ? auth.token : '',
    auth,
    ...(typeof kw.verify === 'string' ? { caFile: kw.verify } : {}),
    ...(typeof kw.namespace === 'string' && kw.namespace ? { namespace: kw.namespace } : {}),
    variablesPath: String(kw.variables_path ?? 'variables').replace(/\/+$/, ''),
    mount: String(kw.mount_point ?? 'secret'),
    connectionsPath: String(kw.connections_path ?? 'connections').replace(/\/+$/, ''),
    kvVersion: kv,
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
  const backend = backendFromEnv(readUserFile(ctx.paths.env, ENV_READ));
  if (typeof backend === 'string') {
    throw new StepError('check', `.env would not work for Airflow: ${backend}`, 'rerun with --force to rewrite .env');
  }
  // Logged in exactly as the provider will (a token as is, AppRole through its login), over the same TLS and namespace.
  const client = await loginAsAirflow(ctx, backend);
  if (s.existing && !s.existing.seed) {
    const rules = uriRules(s.airflowVersion);
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
      const m = (e as Error).message;
      if (backend.auth.method !== 'token') throw await lookupFailure(ctx, backend, `${backend.mount}/${path}`, c.id, e);
      const why = /403/.test(m) ? `the server refuses the token in .env (${m})` : m;
      throw new StepError('check', `Airflow's lookup of '${c.id}' would fail: ${why}`, fixForLookup(m));
    }
    if (!data) {
      throw new StepError(
        'check',
        `Airflow would not find '${c.id}': nothing at ${backend.mount}/${path}`,
        'rerun the create command; check connections_path and mount_point in .env',
      );
    }
    const rules = uriRules(s.airflowVersion);
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

function fixForLookup(message: string): string {
  if (/403/.test(message)) return 'the token in .env is not valid for this server: rerun with --force to rewrite .env';
  if (/refused/.test(message)) return `the server is not running: run ${selfCommand()} up`;
  return `run ${selfCommand()} doctor to find the broken link`;
}
