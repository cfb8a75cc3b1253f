/**
 * `.sandbox/` holds the banner with the root token: before anything starts, it and each entry the
 * tool writes there must be absent or of the right type and ours (never a symlink), so the start
 * step never meets a planted entry half-way (files.ts enforces the same when it opens them).
 */
import { accessSync, constants, lstatSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { checkPrivateEntry, privateEntryError } from '../io/private.js';
import { type SandboxPaths, sandboxEntries } from '../sandbox/index.js';
import { shellArg } from '../ui/invocation.js';

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

/**
 * Every file of the sandbox a run reads (the user's files and the tool's records) that exists must
 * be readable before anything starts: found later, it would end a run that had already started a
 * server and seeded. Only the permission is asked here; the safe reader still checks type and owner.
 */
export function checkReadable(paths: SandboxPaths): void {
  for (const e of sandboxEntries(paths)) {
    if (e.kind !== 'file' || e.key === 'lock' || e.key === 'venvAirflow') continue;
    try {
      if (!lstatSync(e.path).isFile()) continue;
      accessSync(e.path, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') continue;
      throw new UsageError(
        `${e.what} ${e.path} cannot be read (${code}): give it read permission back (chmod u+r ${shellArg(e.path)}), then rerun`,
      );
    }
  }
}
