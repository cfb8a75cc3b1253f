/**
 * argv to command, nothing else (loaded by cli.ts for everything but a bare --version or --help,
 * which cli.ts answers from the schema alone). The options come from the settings schema.
 */
import { existsSync } from 'node:fs';
import { createCommand } from './commands/create.js';
import { doctorCommand } from './commands/doctor.js';
import { downCommand } from './commands/down.js';
import { statusCommand } from './commands/status.js';
import { parseArgs } from 'node:util';
import { UsageError, StepError, Cancelled, exitCodeOf } from './errors.js';
import { VERSION, helpText } from './help.js';
import { colorWanted, markStdoutClosed } from './ui/output.js';
import { redact } from './ui/mask.js';
import { COMMANDS, SETTINGS, parseArgsOptions, rowByFlag, type Command, type SettingRow } from './settings/schema.js';

const OPTIONS = parseArgsOptions();

/** Levenshtein distance, one row at a time: `prev` is the row of a's first i-1 characters. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, sub));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The option parseArgs refused and why, found from its tokens (never from its message): the first
 * unknown one, or the first whose value is missing, ambiguous (another option) or not allowed.
 */
function refusedOption(
  argv: string[],
): { raw: string; why: 'unknown' | 'needs a value' | 'takes no value'; dashValue?: boolean } | null {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const known = OPTIONS[t.name];
    if (!known) return { raw: t.rawName, why: 'unknown' };
    if (known.type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))))
      return { raw: t.rawName, why: 'needs a value', dashValue: t.value !== undefined };
    if (known.type === 'boolean' && t.value !== undefined) return { raw: t.rawName, why: 'takes no value' };
  }
  return null;
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = err.message.split('\n')[0] ?? '';
    const refused = refusedOption(argv);
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && refused?.why === 'unknown') {
      const name = refused.raw.replace(/^-+/, '');
      const near = (SETTINGS as readonly SettingRow[])
        .map((r) => r.flag)
        .filter((f): f is string => !!f)
        .find((f) => editDistance(f, name) <= 2);
      throw new UsageError(
        `unknown option '${refused.raw}'${near ? `; did you mean --${near}?` : ''}; see create-secrets-sandbox --help`,
      );
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && refused && refused.why !== 'unknown') {
      // A value that starts with '-' reads as the next option unless it is joined with '='.
      const joined = refused.dashValue ? ` (for a value starting with '-', write ${refused.raw}=VALUE)` : '';
      throw new UsageError(`option ${refused.raw} ${refused.why}${joined}; see create-secrets-sandbox --help`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`${msg}; see --help`);
    throw new UsageError(`${msg}; see create-secrets-sandbox --help`);
  }
}

/** The parsed flags by schema key (`--no-dag` is dag: false). */
export function optionsFromFlags(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(values)) {
    const r = rowByFlag(flag);
    const negated = flag.startsWith('no-') ? rowByFlag(flag.slice(3)) : undefined;
    if (r) out[r.key] = value;
    else if (negated?.negatable) out[negated.key] = !value;
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv);
  if (v.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (v.help) {
    process.stdout.write(helpText());
    return 0;
  }
  try {
    process.cwd(); // every relative path and message below needs it
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(
        'the current directory no longer exists (deleted or moved); cd to an existing directory and rerun',
      );
    throw e;
  }
  let command: Command = 'create';
  let rest = positionals;
  if (positionals[0] && (COMMANDS as readonly string[]).includes(positionals[0])) {
    command = positionals[0] as Command;
    rest = positionals.slice(1);
  }
  if (command === 'create' && rest[0] !== undefined) {
    const name = rest[0];
    const near = name.length <= 4 ? 1 : 2;
    const typo = /^[a-z]+$/.test(name)
      ? COMMANDS.find((c) => c !== 'create' && c !== name && editDistance(c, name) <= near)
      : undefined;
    if (typo && !existsSync(rest[0])) {
      throw new UsageError(
        `unknown command '${rest[0]}'; did you mean '${typo}'? (for a sandbox dir of that name, write ./${rest[0]})`,
      );
    }
  }
  if (rest.length > 1)
    throw new UsageError(`unexpected argument '${rest[1]}': ${command} takes one directory; see --help`);
  for (const flag of Object.keys(v)) {
    const r = rowByFlag(flag) ?? rowByFlag(flag.replace(/^no-/, ''));
    if (r && !r.commands.includes(command)) {
      throw new UsageError(
        flag === 'fix'
          ? `--fix belongs to 'doctor'; run doctor --fix`
          : `option --${flag} does not apply to '${command}'; see --help`,
      );
    }
  }
  const dir = rest[0];
  if (dir !== undefined && dir.startsWith('-'))
    throw new UsageError(`'${dir}' looks like an option, not a directory; see --help`);
  if (v.dag && v['no-dag']) throw new UsageError('--dag and --no-dag contradict each other; pick one');
  const o = optionsFromFlags(v) as Record<string, never>;
  const output = {
    json: v.json === true,
    quiet: v.quiet === true,
    verbose: v.verbose === true,
    color: v.json !== true && colorWanted(v['no-color'] === true),
  };

  switch (command) {
    case 'status': {
      return statusCommand(dir, output, v['show-token'] === true);
    }
    case 'down': {
      return downCommand(dir, output);
    }
    case 'doctor': {
      return doctorCommand(dir, output, {
        fix: v.fix === true,
        airflowBin: v['airflow-bin'] as string | undefined,
        config: v.config as string | undefined,
        askAirflow: v.airflow as string | undefined,
        yes: v.yes === true,
      });
    }
    case 'up':
    case 'create': {
      return createCommand({
        ...o,
        dir,
        yes: command === 'up' ? true : (o.yes as boolean | undefined),
        requireConfig: command === 'up',
        command,
      });
    }
  }
}

/** Every error leaves through redact(): the token, seeded passwords and URI passwords never print. */
function printError(e: unknown, json: boolean, argv: string[]): void {
  const err = e as Error;
  // Secrets given on the command line may fail validation before anything registered them.
  const rootToken = argv.indexOf('--root-token');
  redact('', [
    rootToken >= 0 ? argv[rootToken + 1] : undefined,
    ...argv.filter((a) => a.startsWith('--root-token=')).map((a) => a.slice('--root-token='.length)),
  ]);
  const message = redact(String(err?.message ?? e));
  if (json) {
    const body: Record<string, unknown> = { ok: false, exit_code: exitCodeOf(e), error: message };
    if (e instanceof StepError)
      Object.assign(body, {
        step: e.step,
        fix: e.fix === undefined ? undefined : redact(e.fix),
        details: e.details?.map((l) => redact(l)),
      });
    process.stdout.write(redact(JSON.stringify(body, null, 2)) + '\n');
    return;
  }
  if (e instanceof UsageError) process.stderr.write(`error: ${message}\n`);
  else if (e instanceof StepError)
    process.stderr.write(
      `✖ ${e.step}: ${message}\n${(e.details ?? []).map((l) => `    ${redact(l)}\n`).join('')}${e.fix ? `  fix: ${redact(e.fix)}\n` : ''}`,
    );
  else if (e instanceof Cancelled) process.stderr.write(`${message}\n`);
  // One line; the stack only when asked for (it helps a bug report, not the user).
  else
    process.stderr.write(
      `✖ unexpected error: ${argv.includes('--verbose') || argv.includes('-v') ? redact(err?.stack ?? message) : message}\n`,
    );
}

// `| head` closes our stdout early: stop writing, quietly, and let the run finish what it started.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') markStdoutClosed();
    else throw e;
  });
}

/** Runs the command line and sets the exit code; errors leave through printError. */
export function run(argv: string[]): Promise<void> {
  return main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      printError(e, argv.includes('--json'), argv);
      process.exitCode = exitCodeOf(e);
    },
  );
}
