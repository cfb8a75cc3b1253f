/**
 * The create flow: resolve, then the ordered steps (create-astro's actions are the model). If a
 * step fails or the run is interrupted, a server this run started is stopped again: no orphans.
 */
import { relative } from 'node:path';
import { Cancelled, UsageError } from '../errors.js';
import { sandboxPaths } from '../sandbox.js';
import type { CreateOptions } from '../settings.js';
import type { CreateContext, Step } from '../steps/context.js';
import { resolve } from '../steps/resolve.js';
import { preflight, settleBinary } from '../steps/preflight.js';
import { start, stopStartedServer } from '../steps/start.js';
import { ready } from '../steps/ready.js';
import { verifyAccess } from '../steps/verify-access.js';
import { seed } from '../steps/seed.js';
import { writeFiles } from '../steps/write-files.js';
import { check } from '../steps/check.js';
import { checkAirflow, skipAirflowCheck } from '../steps/check-airflow.js';
import { installAirflow } from '../steps/install-airflow.js';
import { killRunningChildren } from '../process.js';
import { nextSteps } from '../steps/next-steps.js';
import { planFiles } from '../steps/write-files.js';
import { devServerArgs } from '../vault/server.js';
import { addressUrl, formatAddress } from '../vault/address.js';
import { secretPath } from '../airflow/backend.js';
import { maskToken, redact, revealSecret } from '../ui/mask.js';
import { renderModeFor, runSteps } from '../ui/tasks.js';
import { colorWanted, makePainter, writeErr, writeOut, type OutputMode } from '../ui/output.js';

export interface CommandIO {
  mode: OutputMode;
  showToken: boolean;
}

const STEPS: Step[] = [
  {
    title: 'Install Airflow 3 into the sandbox .venv',
    run: installAirflow,
    skip: (ctx) => (ctx.settings.withAirflow ? undefined : 'no --with-airflow'),
  },
  {
    title: 'Import connections and variables',
    run: async (ctx) => {
      for (const l of ctx.settings.imports.summary) ctx.report.info(l);
      for (const n of ctx.settings.imports.notes) ctx.report.warn(`${n.action} ${n.item} (${n.file}): ${n.reason}`);
    },
    skip: (ctx) => (ctx.options.import?.length ? undefined : 'no --import'),
  },
  { title: 'Find the Vault server binary and a free address', run: preflight },
  { title: 'Start the dev server', run: start },
  { title: 'Wait until it is ready', run: (ctx) => ready(ctx) },
  { title: 'Check the token and the KV mount', run: verifyAccess },
  { title: 'Seed connections and variables', run: seed },
  { title: 'Write the env file, config and example DAG', run: writeFiles },
  {
    title: "Resolve each connection as Airflow's VaultBackend does",
    run: check,
    skip: (ctx) => (ctx.settings.check === 'none' ? '--check none' : undefined),
  },
  { title: 'Resolve each connection through real Airflow', run: checkAirflow, skip: skipAirflowCheck },
  { title: 'Next steps', run: async (ctx) => nextSteps(ctx) },
];

export function outputModeOf(o: CreateOptions & { noColor?: boolean }): OutputMode {
  return { json: o.json ?? false, quiet: o.quiet ?? false, verbose: o.verbose ?? false, color: !o.json && colorWanted(o.noColor ?? false) };
}

export async function createCommand(options: CreateOptions & { noColor?: boolean }, interactive = Boolean(process.stdin.isTTY)): Promise<number> {
  const mode = outputModeOf(options);
  if (!options.yes && !interactive && !options.dryRun) {
    throw new UsageError('no terminal to ask questions on: run with --yes (and flags such as --conn ID=URI) to accept the defaults');
  }
  if (!options.yes && interactive && !options.dryRun) {
    const { runWizard } = await import('../ui/wizard.js');
    options = await runWizard(options);
  }
  const { settings, configFile, airflow } = await resolve(options);
  const ctx: CreateContext = {
    options,
    report: { info: () => {}, warn: () => {} },
    settings,
    configFile,
    airflow,
    paths: sandboxPaths(settings.dir),
    seeded: [],
    files: [],
    checks: [],
    airflowChecks: [],
    warnings: [],
    nextSteps: [],
  };

  if (settings.dryRun) return dryRun(ctx, mode, options.showToken ?? false);

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    killRunningChildren();
    void stopStartedServer(ctx).finally(() => {
      if (!mode.json) writeErr('interrupted: stopped the server this run had started; nothing was left running');
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runSteps(STEPS, ctx, renderModeFor(mode), mode);
  } catch (e) {
    await stopStartedServer(ctx);
    if (interrupted) throw new Cancelled();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  report(ctx, mode, options.showToken ?? false);
  return 0;
}

function summary(ctx: CreateContext, showToken: boolean) {
  const s = ctx.settings;
  return {
    ok: true,
    dir: ctx.paths.dir,
    server: {
      flavour: ctx.binary?.flavour,
      version: ctx.binary?.version,
      binary: ctx.binary?.path,
      url: ctx.server?.url,
      pid: ctx.server?.pid,
      reused: ctx.server ? !ctx.server.startedNow : false,
      token: ctx.server ? maskToken(ctx.server.token, showToken) : undefined,
    },
    airflow: { version: s.airflowVersion, version_source: s.airflowVersionSource, format: s.format, found: ctx.airflow ? { version: ctx.airflow.version, bin: ctx.airflow.bin, provider: ctx.airflow.provider } : null },
    vault: { mount: s.mount, connections_path: s.connectionsPath, variables_path: s.variablesPath, kv_version: s.kvVersion },
    connections: ctx.seeded.filter((r) => r.kind === 'connection').map((r) => ({
      id: r.id,
      path: r.path,
      seeded: r.outcome,
      check: ctx.checks.find((c) => c.id === r.id)?.ok === true ? 'ok' : s.check === 'none' ? 'skipped' : 'not run',
      airflow: ctx.airflowChecks.find((c) => c.kind === 'connection' && c.id === r.id)?.ok ? 'ok' : 'not run',
    })),
    variables: ctx.seeded.filter((r) => r.kind === 'variable').map((r) => ({ key: r.id, path: r.path, seeded: r.outcome })),
    files: ctx.files.map((f) => ({ path: f.path, outcome: f.outcome, ...(f.note ? { note: f.note } : {}) })),
    imports: ctx.settings.imports,
    airflow_checks: ctx.airflowChecks,
    warnings: ctx.warnings,
    next_steps: ctx.nextSteps,
  };
}

function report(ctx: CreateContext, mode: OutputMode, showToken: boolean): void {
  const secrets = showToken ? [] : [ctx.server?.token];
  if (showToken) revealSecret(ctx.server?.token); // asked for: the redactor leaves it whole
  if (mode.json) {
    writeOut(redact(JSON.stringify(summary(ctx, showToken), null, 2), secrets));
    return;
  }
  if (mode.quiet) return;
  const paint = makePainter(mode.color);
  const dirRel = relative(process.cwd(), ctx.paths.dir) || '.';
  writeOut('');
  writeOut(
    `${paint('green', 'Sandbox ready')} in ${dirRel}: ${ctx.binary?.flavour} ${ctx.binary?.version} at ${ctx.server?.url}, root token ${maskToken(ctx.server?.token ?? '', showToken)}` +
      (showToken ? '' : ' (in .env; --show-token prints it)'),
  );
  const counts = (o: string) => ctx.seeded.filter((r) => r.outcome === o).length;
  writeOut(`Seeded ${ctx.seeded.length} secret(s): ${counts('created')} created, ${counts('updated')} updated, ${counts('unchanged')} unchanged.`);
  if (ctx.airflowChecks.some((c) => c.kind === 'connection')) {
    writeOut(`Airflow ${ctx.airflow?.version} resolved all ${ctx.settings.connections.length} connection(s) from Vault${ctx.airflowChecks.some((c) => c.kind === 'dag') ? ', and example_secrets_dag succeeded' : ''}.`);
  } else if (ctx.airflowChecks.some((c) => c.kind === 'dag')) {
    writeOut(`example_secrets_dag succeeded on Airflow ${ctx.airflow?.version}.`);
  } else if (ctx.checks.length) {
    writeOut(`Airflow's VaultBackend would resolve all ${ctx.checks.length} connection(s) from Vault (no Airflow found to ask; --with-airflow installs one).`);
  }
  writeOut('');
  writeOut('Next:');
  for (const l of ctx.nextSteps) writeOut(`  ${l}`);
}

async function dryRun(ctx: CreateContext, mode: OutputMode, showToken: boolean): Promise<number> {
  ctx.report = { info: () => {}, warn: (m) => ctx.warnings.push(m) };
  await preflight(ctx);
  await settleBinary(ctx);
  const s = ctx.settings;
  const listen = ctx.address!;
  const plans = await planFiles({ settings: s, paths: ctx.paths, url: addressUrl(listen), token: '<root token>', flavour: ctx.binary!.flavour });
  const plan = {
    dry_run: true,
    server: {
      command: [ctx.binary!.path, ...devServerArgs(ctx.binary!, formatAddress(listen), s.kvVersion)],
      root_token: s.rootToken ? `via ${ctx.binary!.flavour === 'OpenBao' ? 'BAO' : 'VAULT'}_DEV_ROOT_TOKEN_ID (${maskToken(s.rootToken, showToken)})` : 'made by the server',
      url: addressUrl(listen),
    },
    secrets: [
      ...s.connections.map((c) => `${s.mount}/${secretPath(s.connectionsPath, c.id)}`),
      ...s.variables.map((v) => `${s.mount}/${secretPath(s.variablesPath, v.key)}`),
    ],
    files: plans.map((p) => ({ path: p.path, action: p.outcome === 'created' ? 'create' : p.outcome === 'updated' ? 'update' : p.outcome === 'kept' ? 'keep (edited by you)' : 'unchanged' })),
    warnings: ctx.warnings,
  };
  if (mode.json) {
    writeOut(JSON.stringify(plan, null, 2));
    return 0;
  }
  writeOut('Dry run: nothing is started or written.');
  writeOut(`Server:  ${plan.server.command.join(' ')}`);
  writeOut(`         root token ${plan.server.root_token}; listens on ${plan.server.url}`);
  writeOut('Secrets:');
  for (const p of plan.secrets) writeOut(`  ${p}`);
  writeOut('Files:');
  for (const f of plan.files) writeOut(`  ${f.action.padEnd(22)} ${relative(process.cwd(), f.path) || f.path}`);
  for (const w of ctx.warnings) writeOut(`! ${w}`);
  return 0;
}

