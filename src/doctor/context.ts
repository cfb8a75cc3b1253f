/** What doctor knows before its checks run: the sandbox (if any), the env Airflow would get, the kwargs. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type ConfigFile } from '../config.js';
import { CONFIG_FILE, findSandboxDir, readState, sandboxPaths, type SandboxPaths } from '../sandbox.js';
import { parseEnvFile } from '../airflow/templates.js';
import { findAirflow, type AirflowInstall } from '../airflow/runner.js';
import { readBanner } from '../vault/server.js';
import { proveOurs } from '../vault/identity.js';
import { DEFAULT_DIR } from '../settings.js';
import type { DoctorContext } from './types.js';

/** The sandbox every command means (sandbox.ts findSandboxDir), when there is one there. */
function findSandbox(dirArg: string | undefined): SandboxPaths | undefined {
  const d = findSandboxDir(dirArg);
  if (existsSync(join(d, CONFIG_FILE)) || existsSync(join(d, '.sandbox', 'state.json'))) return sandboxPaths(d);
  return undefined;
}

export async function buildDoctorContext(dirArg: string | undefined, processEnv: NodeJS.ProcessEnv = process.env, airflowBin?: string, airflow?: AirflowInstall | null): Promise<DoctorContext> {
  const paths = findSandbox(dirArg);
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env.set(k, v);
  let config: ConfigFile | undefined;
  let envSource = 'the environment';
  if (paths) {
    if (existsSync(paths.env)) {
      for (const [k, v] of parseEnvFile(readFileSync(paths.env, 'utf8'))) env.set(k, v);
      envSource = paths.env;
    }
    if (existsSync(paths.config)) config = await loadConfig(paths.config).catch(() => undefined);
  }
  const state = paths ? readState(paths) : null;
  let kwargs: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS') ?? '');
    if (v && typeof v === 'object' && !Array.isArray(v)) kwargs = v as Record<string, unknown>;
  } catch {
    /* backend-kwargs reports it */
  }
  const home = processEnv.HOME ?? homedir();
  const tokenFile = join(home, '.vault-token');
  const token =
    (typeof kwargs?.token === 'string' ? kwargs.token : undefined) ??
    env.get('VAULT_TOKEN') ??
    (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() || undefined : undefined);
  // The banner's token counts only for a server proven to be this sandbox's (vault/identity.ts).
  const serverToken = paths && state && proveOurs(state.pid, { address: state.address, sandboxId: state.sandboxId, home: paths.home }).ours ? readBanner(paths.serverOut).rootToken : undefined;
  const kv = kwargs?.kv_engine_version;
  return {
    paths,
    config,
    state,
    env,
    envSource,
    processEnv,
    home,
    token,
    serverToken,
    kwargs,
    mount: typeof kwargs?.mount_point === 'string' ? kwargs.mount_point : (config?.vault?.mount ?? 'secret'),
    connectionsPath: typeof kwargs?.connections_path === 'string' ? kwargs.connections_path.replace(/\/+$/, '') : (config?.vault?.connections_path ?? 'connections'),
    kvVersion: kv === 1 || kv === 2 ? kv : 2,
    airflow: airflow !== undefined ? airflow : await findAirflow(airflowBin, paths?.dir),
    connIds: config?.connections ? Object.keys(config.connections) : undefined,
  };
}

