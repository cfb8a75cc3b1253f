/**
 * Is this pid the server this sandbox started? Pids get recycled and sandbox dirs get copied, so a
 * live pid is not enough: the process must be a `server -dev` on the recorded address and, on
 * Linux, carry this sandbox's id in its environment; everywhere, run in this sandbox's private HOME
 * (its cwd, from /proc or lsof; when neither can tell, the address and command line decide). Only a
 * process proven ours is reused, trusted with the token, or signalled.
 */
import { realpathSync } from 'node:fs';
import { canReadEnviron, cwdOf, environOf, isAlive, processCommandLine } from '../process-table.js';

export const SANDBOX_ID_ENV = 'SECRETS_SANDBOX_ID';

export interface Proof {
  ours: boolean;
  /** Why not, in words a user can act on. */
  why?: string;
}

export interface Expected {
  address: string;
  sandboxId?: string;
  /** The server's working dir (the sandbox's .sandbox/home). */
  home?: string;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

export function proveOurs(pid: number, want: Expected): Proof {
  if (!isAlive(pid)) return { ours: false, why: `pid ${pid} is not running` };
  const cmd = processCommandLine(pid);
  if (!cmd) return { ours: false, why: `pid ${pid} cannot be inspected` };
  if (!/ server /.test(` ${cmd} `) || !cmd.includes('-dev') || !cmd.includes(`-dev-listen-address=${want.address}`)) {
    return { ours: false, why: `pid ${pid} is another process now, not a dev server on ${want.address}` };
  }
  // The working dir is the sandbox's private HOME (from /proc, or lsof where there is no /proc).
  const cwd = cwdOf(pid);
  const inHome = want.home !== undefined && cwd !== null && real(cwd) === real(want.home);
  if (want.home && cwd && !inHome)
    return {
      ours: false,
      why: `pid ${pid} runs in ${cwd}, not in this sandbox (another program's, or a copied sandbox dir's)`,
    };
  if (canReadEnviron()) {
    const id = environOf(pid)?.get(SANDBOX_ID_ENV);
    if (want.sandboxId && id !== undefined && id !== want.sandboxId)
      return { ours: false, why: `pid ${pid} is a dev server of another sandbox, not of this one` };
    // A server without the id was started by an earlier version of this tool: its private HOME must match then.
    if (id === undefined && !inHome)
      return { ours: false, why: `pid ${pid} is a dev server of another program, not of this sandbox` };
  }
  return { ours: true };
}
