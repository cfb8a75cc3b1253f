/**
 * The one writer: a temp file beside the target (O_EXCL|O_NOFOLLOW, mode set on the fd), fsync,
 * rename over the target, fsync of the directory, so a crash leaves the old file or the new one,
 * never half of either. A symlink the user made is kept and its target gets the new content
 * (`secrets-sandbox.yaml -> shared.yaml` stays a link); a link owned by another user, or a target
 * another user owns, is refused. Private files (src/io/private.ts) never follow a link.
 *
 * "Ours" means: its content hash is the one recorded when we last wrote it. Anything else at that
 * path is the user's and is kept unless --force (planFile).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FileError, withPath } from '../errors.js';
import { isTrustedOwner, ownerLabel } from './owner.js';
import { MAX_CONFIG_BYTES, MAX_RECORD_BYTES, readUserFileIfExists } from './read.js';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function ensureDir(dir: string, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
}

/** Links followed before giving up, as the kernel's own limit for a path lookup. */
const MAX_LINKS = 40;

/**
 * Where a write of `path` lands: `path` itself, or the end of the chain of symlinks at it. Each link
 * and the final target, when it exists, must be the invoking user's or root's.
 */
export function writeTarget(path: string): string {
  let p = path;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    let st;
    try {
      st = lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p;
      throw e;
    }
    if (!isTrustedOwner(st.uid)) {
      const what = st.isSymbolicLink() ? 'a symlink' : 'the file';
      const at = p === path ? `'${path}'` : `'${path}' links to '${p}', ${what} that`;
      throw new FileError(
        'foreign-owner',
        p,
        `${at} is owned by ${ownerLabel(st.uid)}, not by you; the tool writes only files of yours: remove it or point the link at a file of yours`,
      );
    }
    if (!st.isSymbolicLink()) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new FileError('symlink', path, `'${path}' is a chain of more than ${MAX_LINKS} symlinks; point it at a file`);
}

const CREATE_EXCL = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Some file systems refuse an fsync of a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface WriteOptions {
  /**
   * Follow a symlink at `path` to its target (default). Off, the rename replaces the link itself:
   * only for entries that may never be links (private files, which check that first).
   */
  followLinks?: boolean;
}

/** Writes `content` to `path` atomically with mode `mode` exactly (the umask does not narrow it). */
export function writeFileAtomic(path: string, content: string, mode = 0o644, o: WriteOptions = {}): void {
  ensureDir(dirname(path));
  const target = o.followLinks === false ? path : writeTarget(path);
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, CREATE_EXCL, mode);
    fchmodSync(fd, mode);
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw withPath(e, target);
  }
  fsyncDir(dirname(target));
}

export type WriteOutcome = 'created' | 'updated' | 'unchanged' | 'kept';

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
}

/**
 * The hashes of the files this tool wrote, by path relative to the sandbox dir. A path holds two
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

/**
 * The hashes of the files this tool wrote last. A record that is missing or not a JSON object is
 * empty (every file then counts as the user's, the safe side); a FIFO or another user's file there
 * is refused like any other planted entry.
 */
export function readWrittenRecord(path: string): WrittenRecord {
  const text = readUserFileIfExists(path, {
    what: 'the written-files record',
    maxBytes: MAX_RECORD_BYTES,
    ownerCheck: true,
    noFollow: true,
    fix: `remove it (rm '${path}') and rerun`,
  });
  if (text === null) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: WrittenRecord = Object.create(null);
    for (const [k, h] of Object.entries(v)) {
      if (typeof h === 'string') out[k] = h;
      else if (Array.isArray(h)) out[k] = h.filter((x): x is string => typeof x === 'string');
    }
    return out;
  } catch {
    return {};
  }
}

/** What writing `file` would do, given the hash recorded for it last time. */
export function planFile(file: PlannedFile, recorded: string | string[] | undefined, force: boolean): WriteOutcome {
  const current = readUserFileIfExists(file.path, {
    what: 'file',
    maxBytes: Math.max(MAX_CONFIG_BYTES, file.content.length * 2),
    fix: `remove or rename what is at '${file.path}', then rerun`,
  });
  if (current === null) return 'created';
  if (current === file.content) return 'unchanged';
  const hashes = recorded === undefined ? [] : Array.isArray(recorded) ? recorded : [recorded];
  const ours = hashes.includes(sha256(current));
  return ours || force ? 'updated' : 'kept';
}
