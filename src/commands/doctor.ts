/** `doctor [dir]`: walk the chain link by link, name the broken one and its fix. */
import { CHECKS, runChecks } from '../doctor/index.js';
import { buildDoctorContext } from '../doctor/context.js';
import type { CheckResult } from '../doctor/types.js';
import { makePainter, writeErr, writeOut, type OutputMode } from '../ui/output.js';
import { redact } from '../ui/mask.js';
import { createCommand } from './create.js';

const MARK: Record<CheckResult['status'], string> = { ok: '[✓]', warn: '[!]', fail: '[✗]', skip: '[-]', crash: '[‼]' };

export function printResults(results: CheckResult[], mode: OutputMode, secrets: (string | undefined)[]): void {
  const paint = makePainter(mode.color);
  const colour = { ok: 'green', warn: 'yellow', fail: 'red', skip: 'gray', crash: 'red' } as const;
  for (const r of results) {
    writeOut(redact(`${paint(colour[r.status], MARK[r.status])} ${r.title}: ${r.detail}`, secrets));
    if (r.fix && (r.status === 'fail' || r.status === 'warn' || r.status === 'crash'))
      writeOut(redact(`    Fix: ${r.fix}`, secrets));
    if (mode.verbose) for (const d of r.details ?? []) writeOut(redact(`    ${d}`, secrets));
  }
  const count = (s: string) => results.filter((r) => r.status === s).length;
  writeOut('');
  const bad = count('fail') + count('crash');
  writeOut(
    bad
      ? `${bad} problem(s) found${count('crash') ? ` (${count('crash')} check(s) crashed)` : ''}, ${count('warn')} warning(s).`
      : count('warn')
        ? `No problems; ${count('warn')} warning(s).`
        : 'No problems found.',
  );
}

const FIXABLE = new Set(['reachable', 'token', 'backend-kwargs', 'backend-class', 'connections', 'health']);

export async function doctorCommand(
  dirArg: string | undefined,
  mode: OutputMode,
  opts: { fix: boolean; airflowBin?: string; config?: string },
): Promise<number> {
  const options = { airflowBin: opts.airflowBin, config: opts.config };
  let ctx = await buildDoctorContext(dirArg, process.env, options);
  let results = await runChecks(ctx, CHECKS);
  let fixed: string | undefined;
  if (opts.fix) {
    const broken = results.filter(
      (r) => r.status === 'fail' && (FIXABLE.has(r.id) || (r.explainedBy !== undefined && FIXABLE.has(r.explainedBy))),
    );
    const sb = ctx.sandbox;
    if (broken.length && sb?.config.exists) {
      // The safe fix: restart the sandbox's own server if needed, re-seed from the config, rewrite .env.
      // The same flow as `up`: files the tool did not write are kept (and said so); the check level is for this run only.
      await createCommand(
        {
          dir: sb.dir,
          ...(opts.config !== undefined ? { config: opts.config } : {}),
          yes: true,
          quiet: true,
          check: 'vault',
          transient: ['check'],
          command: 'doctor --fix',
        },
        false,
      );
      fixed = `restarted or reused the sandbox server, re-seeded from ${sb.config.label} and rewrote the files this tool wrote (fixing: ${broken.map((b) => b.id).join(', ')})`;
      ctx = await buildDoctorContext(sb.dir, process.env, options);
      results = await runChecks(ctx, CHECKS);
    } else if (broken.length) {
      fixed = 'nothing applied: --fix repairs a sandbox made by this tool (run it in the sandbox dir)';
    } else {
      fixed = 'nothing to fix';
    }
  }
  const kw = ctx.kwargs ?? {};
  const secrets = [
    ctx.token,
    ctx.serverToken,
    ...['token', 'secret_id', 'password', 'radius_secret', 'jwt_token'].map((k) =>
      typeof kw[k] === 'string' ? (kw[k] as string) : undefined,
    ),
  ];
  // A crashed check is a fault of doctor, not of the set-up: when Airflow itself resolves every id, it does not fail the run.
  const airflowSaysOk = results.some((r) => r.id === 'airflow-verdict' && (r.status === 'ok' || r.status === 'warn'));
  const failed = results.some((r) => r.status === 'fail' || (r.status === 'crash' && !airflowSaysOk));
  const verdict = ctx.probe ? 'airflow' : 'emulation';
  const verdictLine = ctx.probe
    ? `Verdict: Airflow ${ctx.airflow!.version}'s own (${ctx.airflow!.bin}, asked once for every id); the checks explain it.`
    : `Verdict: an emulation of Airflow${ctx.airflow ? '' : ' (no Airflow found: airflow on PATH, --airflow-bin, or the sandbox .venv)'}; with Airflow, doctor asks Airflow itself.`;
  if (mode.json) {
    writeOut(
      redact(
        JSON.stringify(
          {
            ok: !failed,
            sandbox: ctx.paths?.dir ?? null,
            verdict,
            ...(ctx.probe
              ? {
                  airflow: {
                    version: ctx.airflow!.version,
                    bin: ctx.airflow!.bin,
                    probeSeconds: ctx.probe.wallSeconds,
                    timings: ctx.probe.timings,
                  },
                }
              : {}),
            ...(fixed ? { fixed } : {}),
            checks: results,
          },
          null,
          2,
        ),
        secrets,
      ),
    );
  } else {
    if (ctx.paths) writeOut(`Sandbox: ${ctx.paths.dir}`);
    else writeOut('No sandbox here: checking the environment (VAULT_ADDR, VAULT_TOKEN, AIRFLOW__SECRETS__*).');
    writeOut(verdictLine);
    if (fixed) writeErr(`fix: ${fixed}`);
    printResults(results, mode, secrets);
  }
  return failed ? 1 : 0;
}
