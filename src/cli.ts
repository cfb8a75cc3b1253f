/**
 * argv to command, nothing else. Kept tiny: each command and its libraries load on demand, so
 * `--version` and `--help` cost about as much as starting Node.
 */
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, StepError, Cancelled, exitCodeOf } from './errors.js';
import { HELP, VERSION } from './help.js';
import { colorWanted } from './ui/output.js';
import { redact } from './ui/mask.js';

const OPTIONS = {
  yes: { type: 'boolean', short: 'y' },
  config: { type: 'string' },
  'vault-bin': { type: 'string' },
  address: { type: 'string' },
  'root-token': { type: 'string' },
  mount: { type: 'string' },
  'connections-path': { type: 'string' },
  'variables-path': { type: 'string' },
  conn: { type: 'string', multiple: true },
  var: { type: 'string', multiple: true },
  import: { type: 'string', multiple: true },
  'install-server': { type: 'boolean' },
  'airflow-version': { type: 'string' },
  'airflow-bin': { type: 'string' },
  'with-airflow': { type: 'boolean' },
  'dags-dir': { type: 'string' },
  dag: { type: 'boolean' },
  'no-dag': { type: 'boolean' },
  check: { type: 'string' },
  format: { type: 'string' },
  force: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'allow-remote': { type: 'boolean' },
  json: { type: 'boolean' },
  'show-token': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} satisfies ParseArgsConfig['options'];

const COMMANDS = ['create', 'doctor', 'status', 'down', 'up'] as const;
type Command = (typeof COMMANDS)[number];

/** Options each subcommand accepts besides the shared output ones. */
const SHARED = new Set(['json', 'quiet', 'verbose', 'no-color', 'help', 'version', 'show-token']);
const ONLY: Partial<Record<Command, Set<string>>> = {
  status: new Set(),
  down: new Set(),
  doctor: new Set(['fix', 'airflow-bin']),
};

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = err.message.split('\n')[0] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const m = msg.match(/'([^']+)'/);
      throw new UsageError(`unknown option '${m?.[1] ?? msg}'; see create-secrets-sandbox --help`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const m = msg.match(/--?[\w-]+/);
      throw new UsageError(`option ${m?.[0] ?? ''} needs a value; see create-secrets-sandbox --help`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`${msg}; see --help`);
    throw new UsageError(`${msg}; see create-secrets-sandbox --help`);
  }
}

export async function main(argv: string[]): Promise<number> {
  // `doctor --fix` is the one subcommand flag; pull it out before the shared parser sees it.
  const fix = argv.includes('--fix');
  const { values: v, positionals } = parse(argv.filter((a) => a !== '--fix'));
  if (v.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    process.cwd(); // every relative path and message below needs it
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError('the current directory no longer exists (deleted or moved); cd to an existing directory and rerun');
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
    const typo = /^[a-z]+$/.test(name) ? COMMANDS.find((c) => c !== 'create' && c !== name && editDistance(c, name) <= near) : undefined;
    if (typo && !existsSync(rest[0])) {
      throw new UsageError(`unknown command '${rest[0]}'; did you mean '${typo}'? (for a sandbox dir of that name, write ./${rest[0]})`);
    }
  }
  if (rest.length > 1) throw new UsageError(`unexpected argument '${rest[1]}': ${command} takes one directory; see --help`);
  if (fix && command !== 'doctor') throw new UsageError(`--fix belongs to 'doctor'; run create-secrets-sandbox doctor --fix`);
  const only = ONLY[command];
  if (only) {
    for (const k of Object.keys(v)) {
      if (!SHARED.has(k) && !only.has(k)) throw new UsageError(`option --${k} does not apply to '${command}'; see --help`);
    }
  }
  const dir = rest[0];
  if (dir !== undefined && dir.startsWith('-')) throw new UsageError(`'${dir}' looks like an option, not a directory; see --help`);
  if (v.dag && v['no-dag']) throw new UsageError('--dag and --no-dag contradict each other; pick one');
  const output = {
    json: v.json ?? false,
    quiet: v.quiet ?? false,
    verbose: v.verbose ?? false,
    color: !(v.json ?? false) && colorWanted(v['no-color'] ?? false),
  };

  switch (command) {
    case 'status': {
      const { statusCommand } = await import('./commands/status.js');
      return statusCommand(dir, output, v['show-token'] ?? false);
    }
    case 'down': {
      const { downCommand } = await import('./commands/down.js');
      return downCommand(dir, output);
    }
    case 'doctor': {
      const { doctorCommand } = await import('./commands/doctor.js');
      return doctorCommand(dir, output, { fix, airflowBin: v['airflow-bin'] });
    }
    case 'up':
    case 'create': {
      const { createCommand } = await import('./commands/create.js');
      return createCommand(
        {
          dir,
          yes: command === 'up' ? true : v.yes,
          config: v.config,
          vaultBin: v['vault-bin'],
          address: v.address,
          rootToken: v['root-token'],
          mount: v.mount,
          connectionsPath: v['connections-path'],
          variablesPath: v['variables-path'],
          conn: v.conn,
          var: v.var,
          import: v.import,
          installServer: v['install-server'],
          airflowVersion: v['airflow-version'],
          airflowBin: v['airflow-bin'],
          withAirflow: v['with-airflow'],
          dagsDir: v['dags-dir'],
          dag: v['no-dag'] ? false : v.dag,
          check: v.check,
          format: v.format,
          force: v.force,
          dryRun: v['dry-run'],
          allowRemote: v['allow-remote'],
          json: v.json,
          showToken: v['show-token'],
          quiet: v.quiet,
          verbose: v.verbose,
          noColor: v['no-color'],
          requireConfig: command === 'up',
          // `up` exists to bring .env in line with the new server's token, edited or not.
          forceEnv: command === 'up',
        },
      );
    }
  }
}

/** Every error leaves through redact(): the token, seeded passwords and URI passwords never print. */
function printError(e: unknown, json: boolean, argv: string[]): void {
  const err = e as Error;
  // Secrets given on the command line may fail validation before anything registered them.
  const rootToken = argv.indexOf('--root-token');
  redact('', [rootToken >= 0 ? argv[rootToken + 1] : undefined, ...argv.filter((a) => a.startsWith('--root-token=')).map((a) => a.slice('--root-token='.length))]);
  const message = redact(String(err?.message ?? e));
  if (json) {
    const body: Record<string, unknown> = { ok: false, exit_code: exitCodeOf(e), error: message };
    if (e instanceof StepError) Object.assign(body, { step: e.step, fix: e.fix === undefined ? undefined : redact(e.fix) });
    process.stdout.write(redact(JSON.stringify(body, null, 2)) + '\n');
    return;
  }
  if (e instanceof UsageError) process.stderr.write(`error: ${message}\n`);
  else if (e instanceof StepError) process.stderr.write(`✖ ${e.step}: ${message}\n${e.fix ? `  fix: ${redact(e.fix)}\n` : ''}`);
  else if (e instanceof Cancelled) process.stderr.write(`${message}\n`);
  // One line; the stack only when asked for (it helps a bug report, not the user).
  else process.stderr.write(`✖ unexpected error: ${argv.includes('--verbose') || argv.includes('-v') ? redact(err?.stack ?? message) : message}\n`);
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    printError(e, argv.includes('--json'), argv);
    process.exitCode = exitCodeOf(e);
  },
);
