/**
 * Private entries (`.sandbox/`: the banner with the root token, the server log, state, the written
 * record, the lock): never through a symlink, never into an entry another user owns, always with the
 * mode set on the open fd. The refusals are FileErrors (exit 2) naming the entry and the way out.
 */
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { FileError, type FileErrorKind, withPath } from '../errors.js';
import { currentUid, ownerLabel } from './owner.js';
import { ensureDir, writeFileAtomic } from './write.js';

export interface EntryProblem {
  kind: FileErrorKind;
  problem: string;
}

/** What is wrong with an existing entry that should be ours, of `kind`; null when it is fine. */
export function privateEntryProblem(
  st: { uid: number; isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean },
  kind: 'dir' | 'file',
): EntryProblem | null {
  if (st.isSymbolicLink()) return { kind: 'symlink', problem: 'is a symlink' };
  if (kind === 'dir' && !st.isDirectory()) return { kind: 'not-regular', problem: 'is not a directory' };
  if (kind === 'file' && !st.isFile())
    return {
      kind: 'not-regular',
      problem: st.isDirectory() ? 'is a directory, not a file' : 'is not a regular file',
    };
  const me = currentUid();
  if (me !== undefined && st.uid !== me)
    return { kind: 'foreign-owner', problem: `is owned by ${ownerLabel(st.uid)}, not by you (uid ${me})` };
  return null;
}

/** Exit 2, naming the entry and the way out: the user decides what the entry in the way was. */
export function privateEntryError(path: string, p: EntryProblem, kind: 'dir' | 'file'): FileError {
  const what = kind === 'dir' ? 'directory' : 'file';
  return new FileError(
    p.kind,
    path,
    `'${path}' ${p.problem}; the sandbox keeps the root token there, so it must be a ${what} of yours: remove it (rm -r '${path}') and rerun`,
  );
}

function refuse(path: string, p: EntryProblem, kind: 'dir' | 'file'): never {
  throw privateEntryError(path, p, kind);
}

/** The state of `path` as a private entry: absent, fine, or what is wrong (lstat: never follows). */
export function checkPrivateEntry(path: string, kind: 'dir' | 'file'): 'absent' | 'ok' | EntryProblem {
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
 * is made 0755), refused if it is a symlink, not a directory or someone else's. The mode is set
 * through an fd opened with O_NOFOLLOW, so a swap after the check changes nothing.
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
    if (code === 'ELOOP') refuse(dir, { kind: 'symlink', problem: 'is a symlink' }, 'dir');
    if (code === 'ENOTDIR') refuse(dir, { kind: 'not-regular', problem: 'is not a directory' }, 'dir');
    throw e;
  }
  try {
    const problem = privateEntryProblem(fstatSync(fd), 'dir');
    if (problem) refuse(dir, problem, 'dir');
    fchmodSync(fd, 0o700);
  } catch (e) {
    throw withPath(e, dir);
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
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      refuse(path, { kind: 'not-regular', problem: 'appeared while it was being replaced' }, 'file');
    throw e;
  }
  try {
    fchmodSync(fd, mode); // the umask narrowed it, or widened nothing: state the mode exactly
  } catch (e) {
    closeSync(fd);
    throw withPath(e, path);
  }
  return fd;
}

/** An atomic write of a file in a private dir: the entry it replaces must be a file of ours, never a link. */
export function writePrivateFile(path: string, content: string, mode = 0o600): void {
  const state = checkPrivateEntry(path, 'file');
  if (state !== 'absent' && state !== 'ok') refuse(path, state, 'file');
  writeFileAtomic(path, content, mode, { followLinks: false });
}
