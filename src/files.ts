/**
 * File writing: atomic (temp file, fsync, rename), with modes set at creation, and no clobbering
 * of files the user edited. "Ours" means: its content hash is the one we recorded when we last
 * wrote it. Anything else at that path is the user's and is kept unless --force.
 *
 * Private files (`.sandbox/`: the banner with the root token, the server log, state, the written
 * record) go through ensurePrivateDir / openPrivateFile / writePrivateFile: never through a
 * symlink, never into an entry another user owns, always with the mode set on the open fd.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './errors.js';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function ensureDir(dir: string, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
}

const uid = (): number | undefined => process.getuid?.();

/** What is wrong with an existing entry that should be ours, of `kind`; null when it is fine. */
export function privateEntryProblem(
  st: { uid: number; isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean },
  kind: 'dir' | 'file',
): string | null {
  if (st.isSymbolicLink()) return 'is a symlink';
  if (kind === 'dir' && !st.isDirectory()) return 'is not a directory';
  if (kind === 'file' && !st.isFile()) return st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file';
  const me = uid();
  if (me !== undefined && st.uid !== me) return `is owned by uid ${st.uid}, not by you (uid ${me})`;
  return null;
}

/** Exit 2, naming the entry and the way out: the user decides what the entry in the way was. */
export function privateEntryError(path: string, problem: string, kind: 'dir' | 'file'): UsageError {
  return new UsageError(
    `'${path}' ${problem}; the sandbox keeps the root token there, so it must be a ${kind === 'dir' ? 'directory' : 'file'} of yours: remove it (rm -r '${path}') and rerun`,
  );
}

function refuse(path: string, problem: string, kind: 'dir' | 'file'): never {
  throw privateEntryError(path, problem, kind);
}

/** The state of `path` as a private entry: absent, fine, or what is wrong (lstat: never follows). */
export function checkPrivateEntry(path: string, kind: 'dir' | 'file'): 'absent' | 'ok' | string {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw e;
  }
  return privateEntryProblem(st, kind) ?? 'ok';
}

/**
 * `dir` as a real directory owned by us with mode 0700: made if absent (its parent must exist or
 * is made 0755), refused (UsageError) if it is a symlink, not a directory or someone else's.
 * The mode is set through an fd opened with O_NOFOLLOW, so a swap after the check changes nothing.
 */
export function ensurePrivateDir(dir: string): void {
  const state = checkPrivateEntry(dir, 'dir');
  if (state !== 'absent' && state !== 'ok') refuse(dir, state, 'dir');
  if (state === 'absent') {
    ensureDir(dirname(dir));
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') refuse(dir, 'is a symlink', 'dir');
    if (code === 'ENOTDIR') refuse(dir, 'is not a directory', 'dir');
    throw e;
  }
  try {
    const problem = privateEntryProblem(fstatSync(fd), 'dir');
    if (problem) refuse(dir, problem, 'dir');
    fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}

const CREATE_EXCL = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * A fresh, empty file at `path` open for writing (the fd), mode `mode`, owned by us: an old file of
 * ours there is removed first; a symlink, a non-file or someone else's file is refused. O_EXCL
 * means that whatever appears between the removal and the open is never written through.
 */
export function openPrivateFile(path: string, mode = 0o600): number {
  const state = checkPrivateEntry(path, 'file');
  if (state !== 'absent' && state !== 'ok') refuse(path, state, 'file');
  if (state === 'ok') unlinkSync(path);
  let fd: number;
  try {
    fd = openSync(path, CREATE_EXCL, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') refuse(path, 'appeared while it was being replaced', 'file');
    throw e;
  }
  try {
    fchmodSync(fd, mode); // the umask narrowed it, or widened nothing: state the mode exactly
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** writeFileAtomic for a file in a private dir: the entry it replaces must be a file of ours. */
export function writePrivateFile(path: string, content: string, mode = 0o600): void {
  const state = checkPrivateEntry(path, 'file');
  if (state !== 'absent' && state !== 'ok') refuse(path, state, 'file');
  writeFileAtomic(path, content, mode);
}

/**
 * Temp file (O_EXCL|O_NOFOLLOW, mode set on the fd), fsync, rename over `path`. rename replaces a
 * symlink at `path` rather than writing through it.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  ensureDir(dirname(path));
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, CREATE_EXCL, mode);
    fchmodSync(fd, mode); // the umask may have narrowed it; state the mode exactly
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

export type WriteOutcome = 'created' | 'updated' | 'unchanged' | 'kept';

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
}

/**
 * The hashes of the files this tool wrote, by path relative to the sandbox dir. A path may hold two
 * while a write is under way (the content there and the one about to replace it), so a run cut
 * half-way leaves both known as ours.
 */
export interface WrittenRecord {
  [relPath: string]: string | string[];
}

/** Every hash recorded for a path. */
export function recordedHashes(record: WrittenRecord, key: string): string[] {
  const v = record[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function readWrittenRecord(path: string): WrittenRecord {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as WrittenRecord;
  } catch {
    return {};
  }
}

/** What writing `file` would do, given the hashes we recorded for it (see WrittenRecord). */
export function planFile(file: PlannedFile, recorded: string | string[] | undefined, force: boolean): WriteOutcome {
  if (!existsSync(file.path)) return 'created';
  const current = readFileSync(file.path, 'utf8');
  if (current === file.content) return 'unchanged';
  const hashes = recorded === undefined ? [] : Array.isArray(recorded) ? recorded : [recorded];
  const ours = hashes.includes(sha256(current));
  return ours || force ? 'updated' : 'kept';
}
