/**
 * Follows a fix the way a user would. A fix is either a key edit, which the corpus applies to the
 * file it names:
 *   in FILE, AIRFLOW__SECRETS__BACKEND_KWARGS: set "url": "http://..."; remove "mountpoint"
 *   in FILE, [secrets] backend_kwargs: set ...           (airflow.cfg)
 *   edit FILE: KEY='value'                                (one .env line)
 * or anything else, which is a command: it is run as printed by bash, in the user's shell (their
 * environment after sourcing the sandbox .env, as the tool tells them to), and whatever it
 * exports or unsets stays in that shell for the next round. A command that exits non-zero is a
 * fix the tool (or the shell) refused.
 *
 * A fix that is the exact manual step names what only the user knows with a placeholder
 * (src/doctor/fixes.ts YOUR_*): the corpus puts in what the user would, as they would: the
 * kwargs they meant (the world's, before an operator took them away), a token of the server they
 * started, its address and CA, the userpass password and role_id they set up, a secret_id they make anew.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { runProcess } from '../sandbox.js';
import {
  YOUR_ADDRESS,
  YOUR_CA_FILE,
  YOUR_CONN_URI,
  YOUR_KWARGS,
  YOUR_PASSWORD,
  YOUR_ROLE_ID,
  YOUR_SECRET_ID,
  YOUR_TOKEN,
  YOUR_VAR_VALUE,
} from '../../../src/doctor/fixes.js';
import { sourceEnvFile } from './bases.js';

export interface Applied {
  ok: boolean;
  /** What was done: 'edit' or 'command'. */
  how: 'edit' | 'command';
  /** Why it could not be followed. */
  why?: string;
  /** The user's shell afterwards (a command may export or unset). */
  shell: Record<string, string>;
}

type KwargsOp = { set: [string, unknown] } | { remove: string };

function kwargsOps(text: string): KwargsOp[] | string {
  const ops: KwargsOp[] = [];
  for (const part of text.split(/;\s*/)) {
    const set = /^set "([^"]+)": (.*)$/.exec(part.trim());
    const rm = /^remove "([^"]+)"$/.exec(part.trim());
    if (set?.[1] !== undefined && set[2] !== undefined) {
      try {
        ops.push({ set: [set[1], JSON.parse(set[2])] });
      } catch {
        return `"${part}" is not set "key": <JSON>`;
      }
    } else if (rm?.[1] !== undefined) ops.push({ remove: rm[1] });
    else return `cannot follow "${part}"`;
  }
  return ops;
}

function applyOps(json: string, ops: KwargsOp[]): string {
  let obj: Record<string, unknown>;
  try {
    const parsed = JSON.parse(json) as unknown;
    obj = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    obj = {};
  }
  for (const op of ops) {
    if ('set' in op) obj[op.set[0]] = op.set[1];
    else delete obj[op.remove];
  }
  return JSON.stringify(obj);
}

const single = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

/** Rewrites one .env line (keeping `export`), its value given. */
function setEnvLine(text: string, key: string, value: string): string {
  const re = new RegExp(`^(export\\s+)?${key}=.*$`, 'm');
  const m = re.exec(text);
  if (m) return text.replace(re, `${m[1] ?? ''}${key}=${single(value)}`);
  return `${text}${text.endsWith('\n') || !text ? '' : '\n'}${key}=${single(value)}\n`;
}

async function editKwargs(file: string, where: string, opsText: string): Promise<string | undefined> {
  const ops = kwargsOps(opsText);
  if (typeof ops === 'string') return ops;
  const text = readFileSync(file, 'utf8');
  if (/^\[(\w+)\] (\w+)$/.test(where)) {
    const [, section, key] = /^\[(\w+)\] (\w+)$/.exec(where) ?? [];
    const lines = text.split('\n');
    let inSection = false;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const head = /^\[(.+)\]\s*$/.exec(line);
      if (head) inSection = head[1] === section;
      const kv = new RegExp(`^${key}\\s*=\\s*(.*)$`).exec(line);
      if (inSection && kv) {
        const json = applyOps((kv[1] ?? '').replace(/%%/g, '%'), ops).replace(/%/g, '%%');
        lines[i] = `${key} = ${json}`;
        writeFileSync(file, lines.join('\n'));
        return undefined;
      }
    }
    return `no ${where} in ${file}`;
  }
  const { entries } = await sourceEnvFile(process.cwd(), file);
  const current = entries.find(([k]) => k === where)?.[1] ?? '{}';
  writeFileSync(file, setEnvLine(text, where, applyOps(current, ops)));
  return undefined;
}

/** Runs a command as printed in bash, in the user's shell; returns the shell afterwards. */
async function runCommand(
  command: string,
  shell: Record<string, string>,
  cwd: string,
): Promise<{ ok: boolean; why?: string; shell: Record<string, string> }> {
  const r = await runProcess('bash', ['-c', `${command}\n__rc=$?\nenv -0 > "$CORPUS_ENV_OUT"\nexit $__rc`], {
    cwd,
    env: { ...shell, CORPUS_ENV_OUT: `${cwd}/.corpus-env-${process.pid}` },
    timeoutMs: 120_000,
  });
  const out = `${cwd}/.corpus-env-${process.pid}`;
  let after: Record<string, string> = shell;
  try {
    after = {};
    for (const kv of readFileSync(out, 'utf8').split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) after[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  } catch {
    after = shell;
  }
  for (const k of ['_', 'SHLVL', 'OLDPWD', 'CORPUS_ENV_OUT', '__rc']) delete after[k];
  if (shell.PWD === undefined) delete after.PWD;
  if (r.code !== 0)
    return {
      ok: false,
      why: `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`,
      shell,
    };
  return { ok: true, shell: after };
}

/** What the user knows and doctor cannot: filled into a fix's placeholders. */
export interface UserKnows {
  /** The kwargs JSON the user meant. */
  kwargs?: string;
  /** A token the server accepts (the user started it: its admin token is at hand). */
  token?: string;
  /** Where the user's server listens, and the CA that signed its certificate. */
  address?: string;
  caFile?: string;
  password?: string;
  roleId?: string;
  /** A secret_id made anew for the user's AppRole. */
  secretId?: () => Promise<string | undefined>;
  /** The first connection's URI as meant (its user and password percent-encoded). */
  connUri?: string;
  /** The first variable's value as meant. */
  varValue?: string;
}

/** The fix with each placeholder replaced by what the user knows; a string naming what is missing, else. */
async function filled(fix: string, knows: UserKnows): Promise<string | { missing: string }> {
  const values: Record<string, () => Promise<string | undefined>> = {
    [YOUR_KWARGS]: async () => knows.kwargs,
    [YOUR_TOKEN]: async () => knows.token,
    [YOUR_ADDRESS]: async () => knows.address,
    [YOUR_CA_FILE]: async () => knows.caFile,
    [YOUR_PASSWORD]: async () => knows.password,
    [YOUR_ROLE_ID]: async () => knows.roleId,
    [YOUR_SECRET_ID]: async () => knows.secretId?.(),
    [YOUR_CONN_URI]: async () => knows.connUri,
    [YOUR_VAR_VALUE]: async () => knows.varValue,
  };
  let out = fix;
  for (const [placeholder, value] of Object.entries(values)) {
    if (!out.includes(placeholder)) continue;
    const v = await value();
    if (v === undefined) return { missing: placeholder };
    // The placeholders stand inside single quotes or a JSON string: the value goes in as either keeps it.
    out = out.split(placeholder).join(v.replace(/'/g, `'\\''`));
  }
  return out;
}

/** A key edit without its trailing `  # why` (a `#` inside a JSON string is the value's). */
function withoutComment(edit: string): string {
  let inString = false;
  for (let i = 0; i < edit.length; i++) {
    const c = edit[i];
    if (inString && c === '\\') i++;
    else if (c === '"') inString = !inString;
    else if (!inString && edit.startsWith('  # ', i)) return edit.slice(0, i);
  }
  return edit;
}

export async function applyFix(
  printed: string,
  shell: Record<string, string>,
  cwd: string,
  knows: UserKnows = {},
): Promise<Applied> {
  const fix = await filled(printed, knows);
  if (typeof fix !== 'string')
    return { ok: false, how: 'edit', why: `the fix asks for ${fix.missing}, which the user does not know`, shell };
  // An edit may carry an explanation after `  # `, as a command does.
  const step = withoutComment(fix.trim());
  const kw = /^in (\S+), (AIRFLOW__SECRETS__BACKEND_KWARGS|\[\w+\] \w+): (.*)$/.exec(step);
  if (kw?.[1] && kw[2] && kw[3] !== undefined) {
    const why = await editKwargs(kw[1], kw[2], kw[3]);
    return { ok: why === undefined, how: 'edit', why, shell };
  }
  const edit = /^edit (\S+): (\w+)='(.*)'$/.exec(step);
  if (edit?.[1] && edit[2] && edit[3] !== undefined) {
    const [, file, key, value] = edit;
    if (basename(file) === 'airflow.cfg')
      return { ok: false, how: 'edit', why: 'edit of airflow.cfg as a .env line', shell };
    writeFileSync(file, setEnvLine(readFileSync(file, 'utf8'), key, value.replace(/'\\''/g, "'")));
    return { ok: true, how: 'edit', shell };
  }
  const r = await runCommand(fix, shell, cwd);
  return { ok: r.ok, how: 'command', why: r.why, shell: r.shell };
}
