/**
 * What a create run says when it is done: a summary object (--json), or a few lines for a person
 * (the server, Airflow's login, the seeding, what Airflow resolved, files kept, the next steps).
 */
import { relative } from 'node:path';
import type { FlowContext } from '../steps/context.js';
import { maskToken, redact, revealSecret } from '../ui/mask.js';
import { makePainter, type OutputMode, writeErr, writeOut } from '../ui/output.js';
import { methodOf } from '../vault/auth/index.js';

const rel = (p: string) => relative(process.cwd(), p) || p;

function connectionRows(ctx: FlowContext) {
  const s = ctx.settings;
  return (ctx.seeded ?? [])
    .filter((r) => r.kind === 'connection')
    .map((r) => ({
      id: r.id,
      path: r.path,
      seeded: r.outcome,
      check: ctx.checks?.find((c) => c.id === r.id)?.ok === true ? 'ok' : s.check === 'none' ? 'skipped' : 'not run',
      airflow: ctx.airflowChecks?.find((c) => c.kind === 'connection' && c.id === r.id)?.ok ? 'ok' : 'not run',
    }));
}

/** How Airflow logs in, for the summary: the method, and the policy and identity a sandbox set up. */
function vaultSummary(ctx: FlowContext) {
  const s = ctx.settings;
  const auth = ctx.airflowAuth;
  const setUp = auth && ctx.policy ? methodOf(auth).sandbox : undefined;
  return {
    mount: s.mount,
    connections_path: s.connectionsPath,
    variables_path: s.variablesPath,
    kv_version: s.kvVersion,
    auth: s.auth,
    ...(auth && ctx.policy && setUp
      ? { policy: ctx.policy.name, policy_source: ctx.policy.source, ...setUp.identity(auth) }
      : {}),
  };
}

export function summary(ctx: FlowContext, showToken: boolean) {
  const s = ctx.settings;
  const { binary, server, airflow } = ctx;
  return {
    ok: true,
    dir: ctx.paths.dir,
    server: {
      flavour: binary?.flavour,
      version: binary?.version,
      binary: binary?.path,
      url: server?.url,
      pid: server?.pid,
      reused: server ? !server.startedNow : false,
      token: server ? maskToken(server.token, showToken) : undefined,
      ui: ctx.ui ?? null,
    },
    airflow: {
      version: s.airflowVersion,
      version_source: s.airflowVersionSource,
      format: s.format,
      found: airflow ? { version: airflow.version, bin: airflow.bin, provider: airflow.provider } : null,
    },
    vault: vaultSummary(ctx),
    config_file: s.configFile,
    connections: connectionRows(ctx),
    variables: (ctx.seeded ?? [])
      .filter((r) => r.kind === 'variable')
      .map((r) => ({ key: r.id, path: r.path, seeded: r.outcome })),
    files: (ctx.files ?? []).map((f) => ({ path: f.path, outcome: f.outcome, ...(f.note ? { note: f.note } : {}) })),
    imports: s.imports,
    airflow_checks: ctx.airflowChecks ?? [],
    airflow_kept: ctx.keptRun
      ? { ui: ctx.keptRun.ui ?? null, components: ctx.keptRun.components, home: ctx.keptRun.home }
      : null,
    warnings: ctx.warnings,
    next_steps: ctx.nextSteps ?? [],
  };
}

function existingVaultLines(ctx: FlowContext, paint: ReturnType<typeof makePainter>): string[] {
  const ex = ctx.settings.existing;
  if (!ex) return [];
  const dirRel = relative(process.cwd(), ctx.paths.dir) || '.';
  const ns = ex.namespace ? ` (namespace ${ex.namespace})` : '';
  const checked = ctx.checks?.length ?? 0;
  return [
    `${paint('green', 'Sandbox ready')} in ${dirRel}: using the existing Vault at ${ex.url}${ns}; this tool did not start it and will not stop it.`,
    ex.seed
      ? `Seeded ${ctx.seeded?.length ?? 0} secret(s) there.`
      : `Nothing was written there (no --seed); ${checked} connection(s) found and checked.`,
  ];
}

/** The server line, and how Airflow logs in when not with the root token. */
function serverLines(ctx: FlowContext, showToken: boolean, paint: ReturnType<typeof makePainter>): string[] {
  const { binary, server, airflowAuth, policy } = ctx;
  const dirRel = relative(process.cwd(), ctx.paths.dir) || '.';
  const kept = airflowAuth
    ? ` (kept for the tool in ${relative(process.cwd(), ctx.paths.serverOut)}; --show-token prints it)`
    : ' (in .env; --show-token prints it)';
  const token = maskToken(server?.token ?? '', showToken);
  const lines = [
    `${paint('green', 'Sandbox ready')} in ${dirRel}: ${binary?.flavour} ${binary?.version} at ${server?.url}, root token ${token}${showToken ? '' : kept}`,
  ];
  const setUp = airflowAuth ? methodOf(airflowAuth).sandbox : undefined;
  if (airflowAuth && policy && setUp) {
    const from = policy.source === 'policy.hcl' ? ' from your policy.hcl' : ', also in policy.hcl';
    lines.push(
      `Airflow logs in with ${setUp.summary(airflowAuth)} under the policy ${policy.name}${from}; the root token is not in .env.`,
    );
  }
  return lines;
}

/** What Airflow (or the emulation of its VaultBackend) resolved. */
function resolvedLines(ctx: FlowContext): string[] {
  const checks = ctx.airflowChecks ?? [];
  const dag = checks.some((c) => c.kind === 'dag');
  const ran = checks.some((c) => c.kind === 'run' && c.id === 'example_secrets_dag' && c.ok);
  const version = ctx.airflow?.version;
  if (checks.some((c) => c.kind === 'connection')) {
    const n = ctx.settings.connections.length;
    const how = dag
      ? ', and example_secrets_dag succeeded'
      : ran
        ? ", and example_secrets_dag ran to success through Airflow's scheduler"
        : '';
    return [`Airflow ${version} resolved all ${n} connection(s) from Vault${how}.`, ...keptLines(ctx)];
  }
  if (dag) return [`example_secrets_dag succeeded on Airflow ${version}.`];
  const n = ctx.checks?.length ?? 0;
  if (!n) return [];
  const noAirflow = 'no Airflow found to ask; --with-airflow installs one';
  return [`Airflow's VaultBackend would resolve all ${n} connection(s) from Vault (${noAirflow}).`];
}

/** The Airflow a real run left running for its UI (--keep), and how to stop it. */
function keptLines(ctx: FlowContext): string[] {
  const k = ctx.keptRun;
  if (!k) return [];
  const ui = k.ui ? `: its UI is at ${k.ui.url}, ${k.ui.signIn}` : '';
  return [
    `Airflow keeps running (${k.components.map((c) => c.name).join(', ')})${ui}; \`down\` stops it with the server.`,
  ];
}

function seededLine(ctx: FlowContext): string {
  const seeded = ctx.seeded ?? [];
  const count = (o: string) => seeded.filter((r) => r.outcome === o).length;
  const counts = `${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged`;
  return `Seeded ${seeded.length} secret(s): ${counts}.`;
}

export function report(ctx: FlowContext, mode: OutputMode, showToken: boolean): void {
  const secrets = showToken ? [] : [ctx.server?.token];
  if (showToken) revealSecret(ctx.server?.token); // asked for: the redactor leaves it whole
  if (mode.json) {
    writeOut(redact(JSON.stringify(summary(ctx, showToken), null, 2), secrets));
    return;
  }
  const kept = (ctx.files ?? []).filter((f) => f.outcome === 'kept');
  if (mode.quiet) {
    // Even quiet (doctor --fix runs this way), a file kept instead of replaced is said, with why.
    for (const f of kept) writeErr(`kept ${rel(f.path)}: ${f.note}`);
    return;
  }
  const paint = makePainter(mode.color);
  const body = ctx.settings.existing
    ? existingVaultLines(ctx, paint)
    : [
        ...serverLines(ctx, showToken, paint),
        seededLine(ctx),
        ...resolvedLines(ctx),
        ...kept.map((f) => paint('yellow', `Kept ${rel(f.path)}: ${f.note}`)),
      ];
  const next = (ctx.nextSteps ?? []).map((l) => `  ${l}`);
  writeOut(['', ...body, '', 'Next:', ...next].join('\n'));
}
