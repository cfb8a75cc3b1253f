/** `doctor [dir]`: walk the chain link by link, name the broken one and its fix. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type ConfigFile } from '../config.js';
import { CONFIG_FILE, readState, sandboxPaths, type SandboxPaths } from '../sandbox.js';
import { parseEnvFile } from '../airflow/templates.js';
import { findAirflow } from '../airflow/runner.js';
import { isAlive, isOurServer, readBanner } from '../vault/server.js';
import { DEFAULT_DIR } from '../settings.js';
import { CHECKS, runChecks } from '../doctor/index.js';
import type { CheckResult, DoctorContext } from '../doctor/types.js';
import { makePainter, writeErr, writeOut, type OutputMode } from '../ui/output.js';
import { redact } from '../ui/mask.js';

function findSandbox(dirArg: string | undefined): SandboxPaths | undefined {
  const candidates = dirArg !== undefined ? [resolve(dirArg)] : [resolve(DEFAULT_DIR), process.cwd()];
  for (const d of candidates) {
    if (existsSync(join(d, CONFIG_FILE)) || existsSync(join(d, '.sandbox', 'state.json'))) return sandboxPaths(d);
  }
  return undefined;
}

export async function buildDoctorContext(dirArg: string | undefined, processEnv: NodeJS.ProcessEnv = process.env): Promise<DoctorContext> {
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
  const serverToken = paths && state && isAlive(state.pid) && isOurServer(state.pid, state.address) ? readBanner(paths.serverOut).rootToken : undefined;
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
    airflow: await findAirflow(processEnv.AIRFLOW_BIN, paths?.dir),
    connIds: config?.connections ? Object.keys(config.connections) : undefined,
  };
}

const MARK: Record<CheckResult['status'], string> = { ok: '[✓]', warn: '[!]', fail: '[✗]', skip: '[-]' };

export function printResults(results: CheckResult[], mode: OutputMode, secrets: (string | undefined)[]): void {
  const paint = makePainter(mode.color);
  const colour = { ok: 'green', warn: 'yellow', fail: 'red', skip: 'gray' } as const;
  for (const r of results) {
    writeOut(redact(`${paint(colour[r.status], MARK[r.status])} ${r.title}: ${r.detail}`, secrets));
    if (r.fix && (r.status === 'fail' || r.status === 'warn')) writeOut(redact(`    Fix: ${r.fix}`, secrets));
    if (mode.verbose) for (const d of r.details ?? []) writeOut(redact(`    ${d}`, secrets));
  }
  const count = (s: string) => results.filter((r) => r.status === s).length;
  writeOut('');
  writeOut(count('fail') ? `${count('fail')} problem(s) found, ${count('warn')} warning(s).` : count('warn') ? `No problems; ${count('warn')} warning(s).` : 'No problems found.');
}

const FIXABLE = new Set(['reachable', 'token', 'backend-kwargs', 'backend-class', 'connections', 'health']);

export async function doctorCommand(dirArg: string | undefined, mode: OutputMode, opts: { fix: boolean }): Promise<number> {
  let ctx = await buildDoctorContext(dirArg);
  let results = await runChecks(ctx, CHECKS);
  let fixed: string | undefined;
  if (opts.fix) {
    const broken = results.filter((r) => r.status === 'fail' && FIXABLE.has(r.id));
    if (broken.length && ctx.paths && existsSync(ctx.paths.config)) {
      // The safe fix: restart the sandbox's own server if needed, re-seed from the config, rewrite .env.
      const { createCommand } = await import('./create.js');
      await createCommand({ dir: ctx.paths.dir, yes: true, quiet: true, forceEnv: true, check: 'vault' }, false);
      fixed = `restarted or reused the sandbox server, re-seeded from secrets-sandbox.yaml and rewrote .env (fixing: ${broken.map((b) => b.id).join(', ')})`;
      ctx = await buildDoctorContext(ctx.paths.dir);
      results = await runChecks(ctx, CHECKS);
    } else if (broken.length) {
      fixed = 'nothing applied: --fix repairs a sandbox made by this tool (run it in the sandbox dir)';
    } else {
      fixed = 'nothing to fix';
    }
  }
  const secrets = [ctx.token, ctx.serverToken];
  const failed = results.some((r) => r.status === 'fail');
  if (mode.json) {
    writeOut(redact(JSON.stringify({ ok: !failed, sandbox: ctx.paths?.dir ?? null, ...(fixed ? { fixed } : {}), checks: results }, null, 2), secrets));
  } else {
    if (ctx.paths) writeOut(`Sandbox: ${ctx.paths.dir}`);
    else writeOut('No sandbox here: checking the environment (VAULT_ADDR, VAULT_TOKEN, AIRFLOW__SECRETS__*).');
    if (fixed) writeErr(`fix: ${fixed}`);
    printResults(results, mode, secrets);
  }
  return failed ? 1 : 0;
}
