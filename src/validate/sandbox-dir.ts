/**
 * `.sandbox/` holds the banner with the root token: before anything starts, it and each entry the
 * tool writes there must be absent or of the right type and ours (never a symlink), so the start
 * step never meets a planted entry half-way (files.ts enforces the same when it opens them).
 */
import { checkPrivateEntry, privateEntryError } from '../io/private.js';
import type { SandboxPaths } from '../sandbox/index.js';

export function checkSandboxState(paths: SandboxPaths): void {
  const entries: [string, 'dir' | 'file'][] = [
    [paths.stateDir, 'dir'],
    [paths.home, 'dir'],
    [paths.serverOut, 'file'],
    [paths.serverLog, 'file'],
    [paths.state, 'file'],
    [paths.written, 'file'],
  ];
  for (const [path, kind] of entries) {
    let state: ReturnType<typeof checkPrivateEntry>;
    try {
      state = checkPrivateEntry(path, kind);
    } catch {
      continue; // e.g. ENOTDIR under a .sandbox that is a file: reported for .sandbox itself
    }
    if (state === 'absent' && path === paths.stateDir) return;
    if (state !== 'absent' && state !== 'ok') {
      throw privateEntryError(path, state, kind);
    }
  }
}
