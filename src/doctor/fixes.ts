/**
 * Fixes that work when pasted. A fix is either a key edit doctor names precisely (never repeating a
 * secret), or a command a shell runs as printed; an explanation goes after `  # `. The edit goes
 * where the setting came from (the backend-settings reader says which source gave each key): the
 * per-key variable in the file or shell that set it, the kwargs JSON in .env or airflow.cfg, or the
 * shell the user exported it in.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describeSource, type SettingSource } from '../airflow/backend/index.js';
import { readWrittenRecord, recordedHashes, sha256 } from '../io/write.js';
import { ENV_READ, readUserFileIfExists } from '../io/read.js';
import type { Sandbox } from '../sandbox/index.js';
import { shlexSplit } from '../airflow/backend/index.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import type { DoctorContext } from './types.js';

/**
 * What only the user knows, in a fix that is the exact manual step: the user puts theirs in its
 * place. Doctor never prints a secret it holds, and cannot know what a secret it never saw held.
 */
export const YOUR_KWARGS = '<your kwargs JSON>';
export const YOUR_TOKEN = '<your Vault token>';
export const YOUR_CONN_URI = '<your connection URI>';
export const YOUR_VAR_VALUE = '<your variable value>';
export const YOUR_PASSWORD = '<your password>';
export const YOUR_ROLE_ID = '<your role_id>';
export const YOUR_SECRET_ID = '<your secret_id>';
export const YOUR_ADDRESS = '<your Vault address>';
export const YOUR_CA_FILE = '<your CA file>';

/** The placeholder for the credential a kwarg holds (`<your password>` for "password"). */
export function yourCredential(kwarg: string): string {
  return kwarg === 'token' ? YOUR_TOKEN : `<your ${kwarg}>`;
}

/** What to do with one kwarg. */
export type KwargOp = { set: unknown } | { remove: true };

/** How the user reloads the sandbox .env into the shell they work in (doctor cannot see that shell). */
export function reloadEnv(envFile: string): string {
  const rel = relative(process.cwd(), envFile);
  const path = rel.startsWith('..') || rel === '' ? envFile : rel.startsWith('.') ? rel : `./${rel}`;
  return `set -a; . ${shellArg(path)}; set +a`;
}

function opsText(ops: Record<string, KwargOp>): string {
  return Object.entries(ops)
    .map(([k, op]) => ('set' in op ? `set "${k}": ${JSON.stringify(op.set)}` : `remove "${k}"`))
    .join('; ');
}

const single = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** A command that drops one variable's line from an env file (perl keeps its mode), and from the shell. */
function dropEnvLine(name: string, file: string): string {
  return `perl -i -ne 'print unless /^(export\\s+)?${name}=/' ${shellArg(file)}; unset ${name}`;
}

/** The per-key variable's own edit: its line in the env file, or the shell it was exported in. */
function perKeyFix(source: SettingSource, op: KwargOp): string {
  const name = source.name;
  if (source.origin === 'env-file' && source.file) {
    if ('remove' in op) return dropEnvLine(name, source.file);
    return typeof op.set === 'string'
      ? `edit ${source.file}: ${name}=${single(op.set)}`
      : `${dropEnvLine(name, source.file)}  # a per-key value is always a string; set it in the kwargs JSON`;
  }
  if ('remove' in op) return `unset ${name}`;
  return typeof op.set === 'string'
    ? `export ${name}=${single(op.set)}`
    : `unset ${name}  # a per-key value is always a string; set it in the kwargs JSON`;
}

/** The kwargs JSON changed in the shell's own variable, by a command that never prints the token it holds. */
function shellKwargsFix(name: string, ops: Record<string, KwargOp>): string {
  const py = Object.entries(ops)
    .map(([k, op]) =>
      'set' in op ? `k[${JSON.stringify(k)}]=${pyLiteral(op.set)}` : `k.pop(${JSON.stringify(k)},None)`,
    )
    .join('; ');
  return `export ${name}="$(python3 -c 'import json,os; k=json.loads(os.environ["${name}"]); ${py}; print(json.dumps(k))')"`;
}

function pyLiteral(v: unknown): string {
  return `json.loads(${JSON.stringify(JSON.stringify(v)).replace(/'/g, '\\u0027')})`;
}

/**
 * The fix that changes these kwargs where Airflow reads them. Keys set by a per-key variable are
 * fixed in that variable; the rest in the kwargs JSON, where it came from.
 */
export function kwargsFix(ctx: Pick<DoctorContext, 'backend' | 'paths'>, ops: Record<string, KwargOp>): string {
  const fixes: string[] = [];
  const json: Record<string, KwargOp> = {};
  for (const [key, op] of Object.entries(ops)) {
    const src = ctx.backend.keySources[key];
    if (src?.kind === 'per-key') fixes.push(perKeyFix(src, op));
    else json[key] = op;
  }
  if (Object.keys(json).length) fixes.push(jsonKwargsFix(ctx, json));
  return fixes.join('; ');
}

function jsonKwargsFix(ctx: Pick<DoctorContext, 'backend' | 'paths'>, ops: Record<string, KwargOp>): string {
  const src = ctx.backend.kwargsSource;
  const name = src?.name ?? 'AIRFLOW__SECRETS__BACKEND_KWARGS';
  if (!src || src.kind === 'default') {
    // No kwargs anywhere: the sandbox .env is where Airflow's instructions load them from.
    const file = ctx.paths?.env;
    const obj = Object.fromEntries(Object.entries(ops).flatMap(([k, op]) => ('set' in op ? [[k, op.set]] : [])));
    return file
      ? `in ${file}, AIRFLOW__SECRETS__BACKEND_KWARGS: ${opsText(ops)}`
      : `export AIRFLOW__SECRETS__BACKEND_KWARGS=${single(JSON.stringify(obj))}`;
  }
  if (src.kind === 'env' && src.origin === 'env-file' && src.file) return `in ${src.file}, ${name}: ${opsText(ops)}`;
  if (src.kind === 'env') return shellKwargsFix(name, ops);
  if (src.kind === 'cfg' && src.file) return `in ${src.file}, [${src.section ?? 'secrets'}] ${name}: ${opsText(ops)}`;
  const file = catFile(src);
  if (file) return jsonFileFix(file, ops);
  // Another command or a secret supplies them: only its owner can change what it prints.
  return `make ${describeSource(src)} give the kwargs with ${opsText(ops)}`;
}

/** The file a kwargs command only prints (`cat FILE`): the kwargs live there, and are edited there. */
function catFile(src: SettingSource): string | undefined {
  if ((src.kind !== 'env-cmd' && src.kind !== 'cfg-cmd') || src.command === undefined) return undefined;
  try {
    const argv = shlexSplit(src.command);
    return argv.length === 2 && argv[0] === 'cat' && argv[1] && !argv[1].startsWith('-') ? argv[1] : undefined;
  } catch {
    return undefined;
  }
}

/** The kwargs JSON file changed in place by Python's own JSON, never printing the token it may hold. */
function jsonFileFix(file: string, ops: Record<string, KwargOp>): string {
  const py = Object.entries(ops)
    .map(([k, op]) =>
      'set' in op ? `k[${JSON.stringify(k)}]=${pyLiteral(op.set)}` : `k.pop(${JSON.stringify(k)},None)`,
    )
    .join('; ');
  return `python3 -c 'import json,sys; f=sys.argv[1]; k=json.load(open(f)); ${py}; json.dump(k,open(f,"w"))' ${shellArg(file)}  # the kwargs the command prints`;
}

/** A variable's own edit where it was set: its line in the env file, or the shell. */
export function envVarFix(
  ctx: Pick<DoctorContext, 'envFileKeys' | 'paths' | 'env'>,
  name: string,
  value: string | null,
): string {
  const file = ctx.paths?.env;
  // Set by the sandbox .env, or set nowhere yet: the .env every instruction loads is where it goes.
  const inFile = file !== undefined && (ctx.envFileKeys.has(name) || (value !== null && !ctx.env.has(name)));
  if (file && inFile) return value === null ? dropEnvLine(name, file) : `edit ${file}: ${name}=${single(value)}`;
  return value === null ? `unset ${name}` : `export ${name}=${single(value)}`;
}

/** The sandbox's .env is the one this tool last wrote (so `up` may replace it), not one the user edited. */
export function envFileIsOurs(sb: Sandbox): boolean {
  const text = readUserFileIfExists(sb.paths.env, ENV_READ);
  if (text === null) return true;
  const hashes = recordedHashes(readWrittenRecord(sb.paths.written), relative(sb.dir, sb.paths.env));
  return hashes.includes(sha256(text));
}

/** The sandbox, when this tool made it (its state.json records a run): only then is `up` its repair. */
export function toolMade(ctx: Pick<DoctorContext, 'sandbox'>): Sandbox | undefined {
  const sb = ctx.sandbox;
  return sb && sb.facts.status !== 'missing' ? sb : undefined;
}

/**
 * `up` for a sandbox this tool made: restart or reuse its server, re-seed, rewrite the files it
 * wrote. With a .env the user edited, plain `up` would keep that .env (and its stale values):
 * `--force` it is, said as such. `newToken`: the token in .env changes, so the shell must load it
 * again. `args`: more options for `up` (a `--conn` that rewrites a connection in the config). Undefined for a set-up this tool did not make.
 */
export function upFix(
  ctx: Pick<DoctorContext, 'sandbox'>,
  opts: { newToken?: boolean; args?: string } = {},
): string | undefined {
  const sb = toolMade(ctx);
  if (!sb) return undefined;
  const ours = envFileIsOurs(sb);
  const cmd = `${selfCommand()} up ${shellArg(sb.dir)}${ours ? '' : ' --force'}${opts.args ? ` ${opts.args}` : ''}`;
  const notes = [
    ...(ours ? [] : ['--force: your edited .env is replaced by the one the sandbox needs']),
    ...(opts.newToken ? [`then reload .env in your shell: ${reloadEnv(sb.paths.env)}`] : []),
  ];
  return notes.length ? `${cmd}  # ${notes.join('; ')}` : cmd;
}

/** The url Airflow uses, changed where it came from (a kwarg, or VAULT_ADDR), with other kwargs beside it. */
export function setUrl(
  ctx: Pick<DoctorContext, 'backend' | 'paths' | 'access' | 'envFileKeys' | 'env'>,
  url: string,
  extra: Record<string, unknown> = {},
): string {
  const more = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { set: v }]));
  if (ctx.access.urlFrom === 'kwargs') return kwargsFix(ctx, { url: { set: url }, ...more });
  const addr = envVarFix(ctx, 'VAULT_ADDR', url);
  return Object.keys(more).length ? `${addr}; ${kwargsFix(ctx, more)}` : addr;
}

/** The one command that asks a pinned Airflow of the major the set-up is for (cached; installed once). */
export function askAirflowCommand(ctx: Pick<DoctorContext, 'sandbox' | 'intendedAirflow'>): string {
  const major = ctx.intendedAirflow?.major === '2' ? '2' : '3';
  const dir = ctx.sandbox ? ` ${shellArg(ctx.sandbox.dir)}` : '';
  return `${selfCommand()} doctor${dir} --airflow ${major}`;
}

/**
 * The server's CLI as the user's shell runs it: the binary the sandbox runs, else `vault` or `bao`
 * on PATH. Every command doctor prints with it names the address, so it reaches the server
 * Airflow talks to whatever VAULT_ADDR says.
 */
export function serverCli(ctx: Pick<DoctorContext, 'sandbox' | 'env' | 'access'>): string {
  const bin = ctx.sandbox?.facts.facts.bin;
  if (bin) return shellArg(bin);
  const onPath = (name: string) =>
    (ctx.env.get('PATH') ?? '').split(':').some((d) => d !== '' && existsSync(join(d, name)));
  return onPath('vault') ? 'vault' : onPath('bao') ? 'bao' : 'vault';
}
