/**
 * Step 8: resolve every connection the way Airflow's VaultBackend does, with the settings Airflow
 * will actually get: url, token, mount, connections_path and kv_engine_version are read back from
 * the written .env, not from memory, so a wrong env file fails here and not in Airflow.
 */
import { describeConnection, diffConnections } from '../airflow/connection.js';
import {
  type AirflowLookup,
  airflowFeatures,
  lookupFromSettings,
  readBackendWithEnvFile,
  secretPath,
} from '../airflow/backend/index.js';
import { connectionFromSecret, expectedConnection } from '../airflow/spec.js';
import { StepError } from '../errors.js';
import type { ConnectionSpec } from '../settings.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { type VaultApi, VaultError } from '../vault/api.js';
import { loginAsAirflow, lookupFailure, readVariablesAsAirflow } from './check-auth.js';
import { checkExisting } from './check-existing.js';
import { type ConnectionCheck, defineStep, type FlowContext } from './context.js';

/** The lookup Airflow would make once the user has loaded the written .env into this shell. */
async function airflowLookup(ctx: FlowContext): Promise<AirflowLookup> {
  const version = ctx.airflow?.version ?? ctx.settings.airflowVersion;
  const { user, read } = await readBackendWithEnvFile(ctx.paths.env, { version });
  const backend = lookupFromSettings(read, user.env);
  if (typeof backend === 'string')
    throw new StepError('check', `.env would not work for Airflow: ${backend}`, 'rerun with --force to rewrite .env');
  return backend;
}

const refusesToken = (e: unknown) => e instanceof VaultError && e.kind === 'http' && e.status === 403;

function fixForLookup(e: unknown, dir: string): string {
  if (refusesToken(e)) return 'the token in .env is not valid for this server: rerun with --force to rewrite .env';
  if (e instanceof VaultError && e.kind === 'refused')
    return `the server is not running: run ${selfCommand()} up ${shellArg(dir)}`;
  return `run ${selfCommand()} doctor ${shellArg(dir)} (finds the broken link)`;
}

/** One connection read with Airflow's login and built as VaultBackend builds it, against what was seeded. */
async function checkConnection(
  ctx: FlowContext,
  b: AirflowLookup,
  client: VaultApi,
  c: ConnectionSpec,
): Promise<ConnectionCheck> {
  const s = ctx.settings;
  const path = secretPath(b.connectionsPath, c.id);
  let data: Record<string, unknown> | null;
  try {
    data = await client.readSecret(b.mount, path, b.kvVersion);
  } catch (e) {
    if (b.auth.method !== 'token') throw await lookupFailure(ctx, b, `${b.mount}/${path}`, c.id, e);
    const m = (e as Error).message;
    const why = refusesToken(e) ? `the server refuses the token in .env (${m})` : m;
    throw new StepError('check', `Airflow's lookup of '${c.id}' would fail: ${why}`, fixForLookup(e, ctx.paths.dir));
  }
  if (!data) {
    throw new StepError(
      'check',
      `Airflow would not find '${c.id}': nothing at ${b.mount}/${path}`,
      'rerun the create command; check connections_path and mount_point in .env',
    );
  }
  const rules = airflowFeatures(s.airflowVersion).uriRules;
  const actual = connectionFromSecret(data, rules);
  const mismatched = diffConnections(expectedConnection(c.uri, s.format, rules), actual);
  const line = `Using connection to: ${describeConnection(c.id, actual)}`;
  ctx.report.info(line);
  return { id: c.id, ok: mismatched.length === 0, line, mismatched };
}

async function check(ctx: FlowContext) {
  const s = ctx.settings;
  const backend = await airflowLookup(ctx);
  // Logged in exactly as the provider will (a token as is, another method through its login), over the same TLS and namespace.
  const client = await loginAsAirflow(ctx, backend);
  if (s.existing && !s.existing.seed) return { checks: await checkExisting(ctx, backend, client) };
  const checks: ConnectionCheck[] = [];
  for (const c of s.connections) checks.push(await checkConnection(ctx, backend, client, c));
  await readVariablesAsAirflow(ctx, backend, client);
  const bad = checks.filter((r) => !r.ok);
  if (bad.length) {
    const list = bad.map((r) => `'${r.id}' (${r.mismatched.join(', ')})`).join('; ');
    throw new StepError(
      'check',
      `what Airflow would read differs from what was seeded: ${list}`,
      'rerun with --force to reseed and rewrite .env',
    );
  }
  return { checks };
}

export const checkStep = defineStep({
  title: "Resolve each connection as Airflow's VaultBackend does",
  needs: [],
  plan: (ctx) => ({
    lines: [`would read each connection back as VaultBackend does (${ctx.settings.connections.length})`],
  }),
  run: check,
  skip: (ctx) => (ctx.settings.check === 'none' ? '--check none' : undefined),
});
