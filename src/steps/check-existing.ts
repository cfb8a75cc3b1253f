/**
 * The check on an existing Vault without --seed: what is already there is checked, not what a
 * config says. The ids are listed under the paths with the tool's token (Airflow's own may only
 * read), plus any the settings name; each is read with Airflow's login and built as VaultBackend
 * builds it.
 */
import { type AirflowLookup, airflowFeatures, secretPath } from '../airflow/backend/index.js';
import { describeConnection } from '../airflow/connection.js';
import { connectionFromSecret } from '../airflow/spec.js';
import { StepError } from '../errors.js';
import type { VaultApi } from '../vault/api.js';
import { lookupFailure } from './check-auth.js';
import type { ConnectionCheck, FlowContext } from './context.js';

type Kind = 'connection' | 'variable';

/** The ids under `base`, or none (said aloud) when the tool's token may not list there. */
async function listed(ctx: FlowContext, lister: VaultApi, b: AirflowLookup, base: string): Promise<string[]> {
  try {
    return (await lister.listSecrets(b.mount, base, b.kvVersion)).filter((k) => !k.endsWith('/'));
  } catch (e) {
    const why = (e as Error).message;
    ctx.report.warn(`cannot list ${b.mount}/${base}/ (${why}); checking only the ids the settings name`);
    return [];
  }
}

/** One secret read with Airflow's login; its line when it is a connection VaultBackend can build. */
async function checkOne(
  ctx: FlowContext,
  b: AirflowLookup,
  client: VaultApi,
  kind: Kind,
  id: string,
): Promise<ConnectionCheck | undefined> {
  const path = secretPath(kind === 'connection' ? b.connectionsPath : b.variablesPath, id);
  const where = `${b.mount}/${path}`;
  let data: Record<string, unknown> | null;
  try {
    data = await client.readSecret(b.mount, path, b.kvVersion);
  } catch (e) {
    throw await lookupFailure(ctx, b, where, kind === 'connection' ? id : `variable ${id}`, e);
  }
  if (!data) throw new StepError('check', `Airflow would not find the ${kind} '${id}': nothing at ${where}`);
  if (kind === 'variable') {
    if (!('value' in data))
      throw new StepError(
        'check',
        `the variable '${id}' at ${where} has no "value" key; VaultBackend returns nothing for it`,
        'store it as value=<text>',
      );
    ctx.report.info(`variable ${id}: found`);
    return undefined;
  }
  let line: string;
  try {
    const rules = airflowFeatures(ctx.settings.airflowVersion).uriRules;
    line = `Using connection to: ${describeConnection(id, connectionFromSecret(data, rules))}`;
  } catch (e) {
    throw new StepError(
      'check',
      `Airflow could not build the connection '${id}' from ${where}: ${(e as Error).message}`,
    );
  }
  ctx.report.info(line);
  return { id, ok: true, line, mismatched: [] };
}

export async function checkExisting(
  ctx: FlowContext,
  b: AirflowLookup,
  airflowClient: VaultApi,
): Promise<ConnectionCheck[]> {
  const s = ctx.settings;
  const lister = ctx.client ?? airflowClient;
  const connIds = [
    ...new Set([...(await listed(ctx, lister, b, b.connectionsPath)), ...s.connections.map((c) => c.id)]),
  ];
  const varKeys = [...new Set([...(await listed(ctx, lister, b, b.variablesPath)), ...s.variables.map((v) => v.key)])];
  if (!connIds.length && !varKeys.length) {
    const where = `${b.mount}/${b.connectionsPath}/ or ${b.mount}/${b.variablesPath}/ on ${b.url}`;
    ctx.report.warn(`no connections or variables under ${where}: nothing to check`);
    return [];
  }
  const checks: ConnectionCheck[] = [];
  for (const id of connIds) {
    const c = await checkOne(ctx, b, airflowClient, 'connection', id);
    if (c) checks.push(c);
  }
  for (const key of varKeys) await checkOne(ctx, b, airflowClient, 'variable', key);
  return checks;
}
