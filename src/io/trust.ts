/**
 * The trust boundary every command passes before it reads a sandbox, modelled on git's
 * `safe.directory` rule (CVE-2022-24765): a directory another user controls can make the caller run
 * that user's programs (the server binary, the `#!` of `.venv/bin/airflow`) and send the caller's
 * token to that user's address. So each entry the tool reads its settings, binaries or records from
 * must be
 * - owned by the invoking user, or by root;
 * - not writable by group or others (a directory may be, when it is sticky and the invoker's own);
 * - not a symlink leaving the sandbox, unless the link was there when the sandbox was created (the
 *   model records those) or points into a directory the user trusts;
 * - of its kind: a FIFO, device or socket where a file belongs is never legitimate.
 * Anything else is refused (exit 2) naming the path and its owner.
 *
 * The opt-in for a directory the user means to share: SECRETS_SANDBOX_TRUSTED_DIRS, a list of
 * absolute directories (separated like PATH; `*` trusts every directory, as git's
 * `safe.directory=*`). Entries at or under a listed directory skip the owner and mode rules, and a
 * link into one counts as recorded.
 */
import { lstatSync, readlinkSync, realpathSync, type Stats, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FileError } from '../errors.js';
import { currentUid, isTrustedOwner, ownerLabel } from './owner.js';
import { describeEntry } from './read.js';

export const TRUSTED_DIRS_ENV = 'SECRETS_SANDBOX_TRUSTED_DIRS';

export interface TrustEntry {
  path: string;
  /** How the refusal names it: `the sandbox directory`, `config file`, `the venv's airflow`. */
  what: string;
  kind: 'dir' | 'file';
}

export interface TrustContext {
  /** The sandbox directory as the user named it (it may itself be a link the user made). */
  sandboxDir: string;
  /**
   * Symlinks leaving the sandbox that were there when it was created: the path relative to the
   * sandbox dir -> the resolved target then (recordLinks). Undefined for a sandbox being created
   * now: the links found are how the user made it.
   */
  links?: Readonly<Record<string, string>>;
  env?: NodeJS.ProcessEnv;
}

/** The directories the user opted in to trust, resolved; `'*'` for all. */
export function trustedDirs(env: NodeJS.ProcessEnv = process.env): string[] | '*' {
  const raw = env[TRUSTED_DIRS_ENV] ?? '';
  const dirs = raw.split(delimiter).filter((d) => d !== '');
  if (dirs.includes('*')) return '*';
  return dirs.filter((d) => isAbsolute(d)).map((d) => realOr(d));
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function optedIn(path: string, env: NodeJS.ProcessEnv | undefined): boolean {
  const dirs = trustedDirs(env);
  if (dirs === '*') return true;
  const real = realOr(path);
  return dirs.some((d) => isInside(real, d) || isInside(resolve(path), d));
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

/** Where a chain of links at `path` ends (the last hop may not exist), or null past the kernel's 40 hops. */
function linkEnd(path: string): string | null {
  let p = path;
  for (let hops = 0; hops <= 40; hops++) {
    const st = lstatOrNull(p);
    if (!st) return join(realOr(dirname(p)), basename(p));
    if (!st.isSymbolicLink()) return realOr(p);
    p = resolve(dirname(p), readlinkSync(p));
  }
  return null;
}

/** How a link is named in the record: its path relative to the sandbox (the link itself, not its target). */
function linkKey(realSandbox: string, path: string): string {
  return relative(realSandbox, join(realOr(dirname(path)), basename(path)));
}

const SHARE_FIX = `if you trust it, list its directory in ${TRUSTED_DIRS_ENV} (README: Security); otherwise use a sandbox of your own`;

function refuse(kind: FileError['kind'], e: TrustEntry, problem: string, fix: string): FileError {
  return new FileError(kind, e.path, `${e.what} '${e.path}' ${problem}; ${fix}`, { problem });
}

function modeProblem(st: Stats, me: number | undefined): string | null {
  if ((st.mode & 0o022) === 0) return null;
  if (st.isDirectory() && st.mode & 0o1000 && (me === undefined || st.uid === me)) return null;
  const who = st.mode & 0o002 ? 'everyone' : 'its group';
  return `is writable by ${who} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
}

const foreignLink = (e: TrustEntry, link: Stats) =>
  refuse('foreign-owner', e, `is a symlink owned by ${ownerLabel(link.uid)}, not by you`, SHARE_FIX);

/** Why the link at `e.path` (not the sandbox dir itself) may not be followed out of the sandbox, or null. */
function linkOutProblem(e: TrustEntry, ctx: TrustContext, base: string): FileError | null {
  const end = linkEnd(e.path);
  if (end === null) return refuse('symlink', e, 'is a chain of more than 40 symlinks', 'point it at a file');
  if (isInside(end, base) || ctx.links === undefined) return null;
  if (ctx.links[linkKey(base, e.path)] === end || optedIn(end, ctx.env)) return null;
  return refuse(
    'unsafe-link',
    e,
    `links to '${end}', outside the sandbox, and was not there when the sandbox was created`,
    `if you made it, list '${end}' in ${TRUSTED_DIRS_ENV} (README: Security); otherwise remove the link`,
  );
}

function kindProblem(e: TrustEntry, st: Stats): FileError | null {
  if (e.kind === 'dir' && !st.isDirectory())
    return refuse('not-regular', e, `is ${describeEntry(st)}, not a directory`, `move it out of the way`);
  // A directory in the way of a file is left to the command (it says what it could not write).
  if (e.kind === 'file' && !st.isFile() && !st.isDirectory())
    return refuse('not-regular', e, `is ${describeEntry(st)}, not a regular file`, `remove it ('rm ${e.path}')`);
  return null;
}

/** What is wrong with one entry, or null when it may be read (absent entries are fine: nothing to read). */
export function trustProblem(e: TrustEntry, ctx: TrustContext): FileError | null {
  let link: Stats | null;
  try {
    link = lstatOrNull(e.path);
  } catch (err) {
    // Another user's sandbox, as seen by someone its modes keep out: say so, never "corrupt".
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return new FileError('unreadable', e.path, `${e.what} '${e.path}' cannot be read (${code}); ${ownerFix(e.path)}`, {
      code,
      problem: `cannot be read (${code})`,
    });
  }
  if (!link) return null;
  // At or under a directory the user opted in to share: the owner and mode rules are lifted.
  const shared = optedIn(e.path, ctx.env);
  let st = link;
  if (link.isSymbolicLink()) {
    if (!shared && !isTrustedOwner(link.uid)) return foreignLink(e, link);
    // The sandbox dir may itself be a link the user made: it defines "inside".
    if (resolve(e.path) !== resolve(ctx.sandboxDir)) {
      const out = linkOutProblem(e, ctx, realOr(ctx.sandboxDir));
      if (out) return out;
    }
    try {
      st = statSync(e.path);
    } catch {
      return null; // a dangling link: nothing to read; a write creates its target
    }
  }
  const kind = kindProblem(e, st);
  if (kind || shared) return kind;
  const me = currentUid();
  if (!isTrustedOwner(st.uid, me))
    return refuse('foreign-owner', e, `is owned by ${ownerLabel(st.uid)}, not by you`, SHARE_FIX);
  const mode = modeProblem(st, me);
  if (mode) return refuse('unsafe-mode', e, mode, `make it yours alone (chmod go-w '${e.path}'), or ${SHARE_FIX}`);
  return null;
}

/** The way out when an entry cannot even be looked at: run as whoever owns the nearest dir above it. */
function ownerFix(path: string): string {
  for (let d = dirname(path); ; d = dirname(d)) {
    try {
      return `run this as its owner, ${ownerLabel(statSync(d).uid)} (the owner of '${d}')`;
    } catch {
      if (dirname(d) === d) return 'run this as its owner';
    }
  }
}

/** Refuses (FileError, exit 2) the first entry that may not be trusted, in the order given. */
export function assertTrusted(entries: readonly TrustEntry[], ctx: TrustContext): void {
  for (const e of entries) {
    const p = trustProblem(e, ctx);
    if (p) throw p;
  }
}

/**
 * The links among `entries` that leave the sandbox, as the model records them when the sandbox is
 * created (TrustContext.links): relative path -> resolved target.
 */
export function recordLinks(sandboxDir: string, entries: readonly TrustEntry[]): Record<string, string> {
  const base = realOr(sandboxDir);
  const out: Record<string, string> = {};
  for (const e of entries) {
    if (resolve(e.path) === resolve(sandboxDir)) continue;
    if (!lstatOrNull(e.path)?.isSymbolicLink()) continue;
    const end = linkEnd(e.path);
    if (end === null || isInside(end, base)) continue;
    out[linkKey(base, e.path)] = end;
  }
  return out;
}

/**
 * A program the tool is about to run (a server binary, `.venv/bin/airflow`, the interpreter its
 * `#!` names): every link to it and the file itself owned by the invoker or root, neither it nor its
 * directory writable by others (a sticky directory such as /tmp is fine for root's files).
 */
export function assertTrustedExecutable(path: string, what: string, env: NodeJS.ProcessEnv = process.env): void {
  const e: TrustEntry = { path, what, kind: 'file' };
  if (optedIn(path, env)) return;
  const me = currentUid();
  let p = path;
  for (let hops = 0; hops <= 40; hops++) {
    const st = lstatOrNull(p);
    if (!st) return; // absent: running it fails with its own clear error
    const at = p === path ? '' : ` (through the link to '${p}')`;
    if (!isTrustedOwner(st.uid, me))
      throw refuse('foreign-owner', e, `is owned by ${ownerLabel(st.uid)}${at}, not by you or root`, SHARE_FIX);
    const dir = statSync(dirname(p));
    const dirWritable = (dir.mode & 0o022) !== 0 && !(dir.mode & 0o1000 && isTrustedOwner(dir.uid, me));
    if (!isTrustedOwner(dir.uid, me) || dirWritable)
      throw refuse(
        'unsafe-mode',
        e,
        `is in '${dirname(p)}'${at}, a directory another user can change (owner ${ownerLabel(dir.uid)}, mode ${(dir.mode & 0o7777).toString(8)})`,
        SHARE_FIX,
      );
    if (!st.isSymbolicLink()) {
      const mode = modeProblem(st, me);
      if (mode) throw refuse('unsafe-mode', e, `${mode}${at}`, `chmod go-w '${p}', or ${SHARE_FIX}`);
      return;
    }
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw refuse('symlink', e, 'is a chain of more than 40 symlinks', 'point it at the program');
}
