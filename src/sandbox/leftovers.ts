/**
 * What a run found in place, so that a run that fails or is interrupted leaves the directory as it
 * was when it started: the entries it created (the sandbox dir, `.sandbox/`, the files, the DAG
 * folder) are removed again, unless something in them is still needed (a server that would not
 * stop is recorded in `.sandbox/`, and `down` needs that record).
 */
import { existsSync, lstatSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DAG_FILE, type SandboxPaths } from './layout.js';

export interface Snapshot {
  /** Entries that were absent when the run started, files before their dirs. */
  absent: { path: string; kind: 'file' | 'own-dir' | 'dir' }[];
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The entries a run may create, and which of them are absent now. `own-dir` is removed whole (only
 * this tool writes in `.sandbox/`); a `dir` only when it ends up empty (the user may have put
 * something there meanwhile, or a kept `.venv` is in it).
 */
export function snapshotBefore(paths: SandboxPaths, extra: { dagsDir?: string } = {}): Snapshot {
  const dagsDir = extra.dagsDir ?? paths.dagsDir;
  const files = [paths.config, paths.env, paths.dockerEnv, paths.gitignore, paths.policy, join(dagsDir, DAG_FILE)];
  const absent: Snapshot['absent'] = [];
  for (const f of files) if (!exists(f)) absent.push({ path: f, kind: 'file' });
  if (!exists(paths.stateDir)) absent.push({ path: paths.stateDir, kind: 'own-dir' });
  if (!exists(dagsDir)) absent.push({ path: dagsDir, kind: 'dir' });
  if (!exists(paths.dir)) absent.push({ path: paths.dir, kind: 'dir' });
  return { absent };
}

/**
 * Removes what the run created (see Snapshot), except the entries holding a file in `keep` (one an
 * error message sends the user to); returns what it removed, for the message. Never throws.
 */
export function removeCreated(s: Snapshot, keep: readonly string[] = []): string[] {
  const removed: string[] = [];
  const needed = (p: string) => keep.some((k) => k === p || k.startsWith(`${p}/`));
  for (const e of s.absent) {
    try {
      if (!exists(e.path) || needed(e.path)) continue;
      if (e.kind === 'file') rmSync(e.path, { force: true });
      else if (e.kind === 'own-dir') rmSync(e.path, { recursive: true, force: true });
      else {
        if (!existsSync(e.path) || readdirSync(e.path).length > 0) continue;
        rmdirSync(e.path);
      }
      removed.push(e.path);
    } catch {
      /* what cannot be removed stays; the run's own failure is the one to report */
    }
  }
  return removed;
}
