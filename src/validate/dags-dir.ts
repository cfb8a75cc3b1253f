/**
 * The example DAG's directory must be writable before the server starts and secrets are seeded:
 * access(2) on the nearest directory that exists. It writes nothing (bad input leaves even mtimes
 * alone) and it reports a read-only file system (EROFS) and an immutable dir even to root.
 */
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export function dagsDirProblem(dir: string): string | null {
  let probeIn = dir;
  for (;;) {
    try {
      const st = statSync(probeIn);
      if (!st.isDirectory()) return probeIn === dir ? 'is not a directory' : `cannot be made: '${probeIn}' is a file`;
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') return `cannot be made: a part of the path is a file`;
      if (code !== 'ENOENT') return `cannot be checked (${code})`;
      // A dangling symlink: mkdir would fail on it.
      try {
        lstatSync(probeIn);
        return `cannot be made: '${probeIn}' is a dangling symlink`;
      } catch {
        /* absent: look one level up */
      }
    }
    const up = dirname(probeIn);
    if (up === probeIn) return 'has no existing parent directory';
    probeIn = up;
  }
  try {
    accessSync(probeIn, constants.W_OK | constants.X_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EROFS'
        ? 'is on a read-only file system'
        : code === 'EACCES' || code === 'EPERM'
          ? 'is not writable by you'
          : `is not writable (${code})`;
    return probeIn === dir ? why : `cannot be made: '${probeIn}' ${why}`;
  }
}
