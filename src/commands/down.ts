/** `down [dir]`: stop the server this sandbox started, and only that one. */
import { resolve } from 'node:path';
import { rmSync } from 'node:fs';
import { sandboxPaths, readState } from '../sandbox.js';
import { isAlive, isOurServer, stopProcessGroup } from '../vault/server.js';
import { DEFAULT_DIR } from '../settings.js';
import { writeOut, type OutputMode } from '../ui/output.js';

export async function downCommand(dirArg: string | undefined, mode: OutputMode): Promise<number> {
  const dir = resolve(dirArg ?? DEFAULT_DIR);
  const paths = sandboxPaths(dir);
  const state = readState(paths);
  let result: { stopped: boolean; pid?: number; message: string };
  if (!state) {
    result = { stopped: false, message: 'no sandbox server recorded here; nothing to stop' };
  } else if (!isAlive(state.pid)) {
    rmSync(paths.state, { force: true });
    result = { stopped: false, pid: state.pid, message: `the sandbox server (pid ${state.pid}) was not running; cleared its record` };
  } else if (!isOurServer(state.pid, state.address)) {
    // The pid was recycled by some other program: never signal it.
    rmSync(paths.state, { force: true });
    result = { stopped: false, pid: state.pid, message: `pid ${state.pid} now belongs to another process; left it alone and cleared the record` };
  } else {
    await stopProcessGroup(state.pid);
    rmSync(paths.state, { force: true });
    result = { stopped: !isAlive(state.pid), pid: state.pid, message: `stopped the sandbox server (pid ${state.pid}) on ${state.url}` };
  }
  if (mode.json) writeOut(JSON.stringify({ dir, ...result }, null, 2));
  else if (!mode.quiet) writeOut(result.message);
  return 0;
}
