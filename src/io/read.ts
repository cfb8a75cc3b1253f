/**
 * The one reader of files the user or another process can influence (the config, --import files,
 * env files, the DAG, .gitignore, policy.hcl, token files, the sandbox's records, CA files,
 * airflow.cfg, the server's output). The fd decides, not the path:
 * - opened O_RDONLY|O_NONBLOCK, so a FIFO with no writer can never block the open (or any read);
 * - fstat on that fd: a regular file only (a FIFO, device, socket or directory is refused before a
 *   byte is read, so /dev/zero cannot exhaust memory);
 * - at most `maxBytes`, checked against the size and again while reading (a growing file is bounded);
 * - optionally owned by the invoking user or root, and optionally never through a symlink (O_NOFOLLOW).
 * Every refusal is a FileError naming the path and the problem, never a byte of the content.
 *
 * Read directly elsewhere, on purpose: /proc/<pid>/{stat,cmdline,environ} (the kernel's records of a
 * process: src/process-table.ts), /etc/passwd (owner.ts), and the
 * package's own templates and requirements (src/airflow/templates.ts, src/steps/install-airflow.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { FileError } from '../errors.js';
import { isTrustedOwner, ownerLabel } from './owner.js';

/** What --import reads: an `airflow connections export` of many thousand connections. */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
/**
 * secrets-sandbox.yaml: whatever the tool writes it must read back, and imports under their cap
 * (several of them, merged) become its connections. Three full imports fit.
 */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024;
/** state.json, written.json, target.json: they list the seeded set, as large as the config's. */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;
/** Env files, the DAG, .gitignore, policy.hcl, airflow.cfg, CA bundles, the server's banner. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** A token file: a Vault token is under 200 bytes. */
export const MAX_TOKEN_BYTES = 64 * 1024;

export interface ReadOptions {
  /** How the file is named before its path in messages: `config file`, `--token-file`, `the .env`. */
  what: string;
  maxBytes: number;
  /** What to do instead, said after the problem. A default naming the path is used otherwise. */
  fix?: string;
  /** Refuse a file owned by another user (root's and the invoking user's are accepted). */
  ownerCheck?: boolean;
  /** Refuse a symlink at the path itself instead of following it. */
  noFollow?: boolean;
  /** How the path is shown in messages (e.g. relative to the working dir); the path itself otherwise. */
  shownAs?: string;
}

/** `1 MB`, `64 KB`, `12 bytes`: the unit that says the cap plainly. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KB`;
  return `${n} bytes`;
}

export function describeEntry(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

const OPEN_WHY: Record<string, string> = {
  EACCES: 'cannot be read (permission denied)',
  EPERM: 'cannot be read (permission denied)',
  ELOOP: 'is a symlink, and this file is never read through one',
  EISDIR: 'is a directory',
  ENOTDIR: 'does not exist (a parent of it is not a directory)',
  ENOENT: 'does not exist',
};

function fail(o: ReadOptions, path: string, kind: FileError['kind'], problem: string, code?: string): never {
  const shown = o.shownAs ?? path;
  const fix =
    kind === 'too-large' ? 'split it or remove what it does not need' : (o.fix ?? `check ${o.what} '${shown}'`);
  throw new FileError(kind, path, `${o.what} '${shown}' ${problem}; ${fix}`, { code, problem });
}

function openOrFail(path: string, o: ReadOptions): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (o.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    const kind = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'ELOOP' ? 'symlink' : 'unreadable';
    if (code === 'EISDIR') fail(o, path, 'not-regular', 'is a directory, not a regular file', code);
    fail(o, path, kind, OPEN_WHY[code] ?? `cannot be opened (${code})`, code);
  }
}

/**
 * Reads from `fd` until EOF, at most `max` bytes; null when there is more (one byte past the cap is
 * the proof). Starts at the fstat size and grows only for a file that grows while being read.
 */
function readBounded(fd: number, size: number, max: number): Buffer | null {
  let buf = Buffer.alloc(Math.min(size, max) + 1);
  let got = 0;
  for (;;) {
    const n = readSync(fd, buf, got, buf.length - got, null);
    if (n === 0) return buf.subarray(0, got);
    got += n;
    if (got > max) return null;
    if (got === buf.length) {
      const bigger = Buffer.alloc(Math.min(buf.length * 2, max + 1));
      buf.copy(bigger);
      buf = bigger;
    }
  }
}

/** An fd on `path` that is a regular file (of a trusted owner when asked), and its fstat. */
function openRegular(path: string, o: ReadOptions): { fd: number; st: Stats } {
  const fd = openOrFail(path, o);
  try {
    const st = fstatSync(fd);
    // EISDIR for a directory, as open(2) says when asked to write one: a writer reports "in the way".
    if (!st.isFile())
      fail(
        o,
        path,
        'not-regular',
        `is ${describeEntry(st)}, not a regular file`,
        st.isDirectory() ? 'EISDIR' : undefined,
      );
    if (o.ownerCheck && !isTrustedOwner(st.uid))
      fail(o, path, 'foreign-owner', `is owned by ${ownerLabel(st.uid)}, not by you`);
    return { fd, st };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readFailed(o: ReadOptions, path: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  fail(o, path, 'unreadable', `cannot be read (${code})`, code);
}

/** The bytes of `path`, under the rules above. */
export function readUserBytes(path: string, o: ReadOptions): Buffer {
  const { fd, st } = openRegular(path, o);
  try {
    const cap = `the ${formatBytes(o.maxBytes)} this tool reads`;
    if (st.size > o.maxBytes) fail(o, path, 'too-large', `is ${formatBytes(st.size)}, over ${cap}`);
    let data: Buffer | null;
    try {
      data = readBounded(fd, st.size, o.maxBytes);
    } catch (e) {
      readFailed(o, path, e);
    }
    if (data === null) fail(o, path, 'too-large', `grew past ${cap} while it was read`);
    return data;
  } finally {
    closeSync(fd);
  }
}

/**
 * At most `maxBytes` of a regular file of any size, from its start (a `#!` line) or its end (the
 * last lines of a log). Nothing is refused for its size: only the window is read.
 */
export function readUserFileWindow(path: string, o: ReadOptions & { from: 'start' | 'end' }): string {
  const { fd, st } = openRegular(path, o);
  try {
    const n = Math.min(st.size, o.maxBytes);
    const buf = Buffer.alloc(n);
    let got = 0;
    const at = o.from === 'start' ? 0 : st.size - n;
    try {
      while (got < n) {
        const k = readSync(fd, buf, got, n - got, at + got);
        if (k === 0) break;
        got += k;
      }
    } catch (e) {
      readFailed(o, path, e);
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The text (UTF-8) of `path`, under the rules above. */
export function readUserFile(path: string, o: ReadOptions): string {
  return readUserBytes(path, o).toString('utf8');
}

function orNullWhenMissing<T>(read: () => T): T | null {
  try {
    return read();
  } catch (e) {
    if (e instanceof FileError && e.kind === 'missing') return null;
    throw e;
  }
}

/** As readUserFile, but null when nothing is at `path` (every other problem is still refused). */
export function readUserFileIfExists(path: string, o: ReadOptions): string | null {
  return orNullWhenMissing(() => readUserFile(path, o));
}

/** As readUserFileWindow, but null when nothing is at `path`. */
export function readUserFileWindowIfExists(path: string, o: ReadOptions & { from: 'start' | 'end' }): string | null {
  return orNullWhenMissing(() => readUserFileWindow(path, o));
}

/** `.env` and `docker.env`: written by this tool, edited by the user, read by every command. */
export const ENV_READ: ReadOptions = { what: 'the env file', maxBytes: MAX_TEXT_BYTES };

/** policy.hcl: the least-privilege policy written for Airflow's role, which the user may edit. */
export const POLICY_READ: ReadOptions = { what: 'policy.hcl', maxBytes: MAX_TEXT_BYTES };
