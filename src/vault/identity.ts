/**
 * Is this pid the server this sandbox started? Pids get recycled and sandbox dirs get copied, so a
 * live pid is not enough: the process must be a `server -dev` on the recorded address and, on
 * Linux, carry this sandbox's id in its environment; everywhere, run in this sandbox's private HOME
 * (its cwd, from /proc or lsof; when neither can tell, the address and command line decide). Only a
 * process proven ours is reused, trusted with the token, or signalled.
 *
 * The id and the HOME are the identity, not the pid nor the path: `findServers` finds a server the
 * record lost (a run killed between the spawn and the pid's record) and one whose sandbox dir was
 * renamed while it ran (its cwd moves with the dir).
 */
import { readdirSync, realpathSync } from 'node:fs';
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

/** A `<bin> server -dev` command line, as the tool starts its servers. */
export function isDevServerCommand(cmd: string): boolean {
  return / server /.test(` ${cmd} `) && cmd.includes('-dev');
}

/** The address a dev server was told to listen on, from its command line. */
export function listenAddressOf(cmd: string): string | undefined {
  return cmd
    .split(' ')
    .find((a) => a.startsWith('-dev-listen-address='))
    ?.slice('-dev-listen-address='.length);
}

/**
 * Every live dev server that carries `sandboxId` in its environment and runs in `home`: this
 * sandbox's, whatever its record says. Needs /proc (Linux); elsewhere only the recorded pid is known.
 */
export function findServers(want: { sandboxId: string; home: string }): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const home = real(want.home);
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const cmd = processCommandLine(pid);
    if (!cmd || !isDevServerCommand(cmd)) continue;
    if (environOf(pid)?.get(SANDBOX_ID_ENV) !== want.sandboxId) continue;
    const cwd = cwdOf(pid);
    if (cwd !== null && real(cwd) === home && isAlive(pid)) out.push(pid);
  }
  return out;
}

export function proveOurs(pid: number, want: Expected): Proof {
  if (!isAlive(pid)) return { ours: false, why: `pid ${pid} is not running` };
  const cmd = processCommandLine(pid);
  if (!cmd) return { ours: false, why: `pid ${pid} cannot be inspected` };
  if (!isDevServerCommand(cmd) || listenAddressOf(cmd) !== want.address) {
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
