/**
 * File writing: atomic (temp file, fsync, rename), with modes set at creation, and no clobbering
 * of files the user edited. "Ours" means: its content hash is the one we recorded when we last
 * wrote it. Anything else at that path is the user's and is kept unless --force.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function ensureDir(dir: string, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
}

export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  ensureDir(dirname(path));
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(tmp, mode); // the umask may have narrowed or the file may pre-date; state the mode exactly
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

export interface WrittenRecord {
  [relPath: string]: string;
}

export function readWrittenRecord(path: string): WrittenRecord {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as WrittenRecord;
  } catch {
    return {};
  }
}

/** What writing `file` would do, given the hash we recorded for it last time. */
export function planFile(file: PlannedFile, recordedHash: string | undefined, force: boolean): WriteOutcome {
  if (!existsSync(file.path)) return 'created';
  const current = readFileSync(file.path, 'utf8');
  if (current === file.content) return 'unchanged';
  const ours = recordedHash !== undefined && sha256(current) === recordedHash;
  return ours || force ? 'updated' : 'kept';
}
