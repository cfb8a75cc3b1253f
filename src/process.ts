/**
 * Running other programs, one way: execa (loaded on first use, so `--version` and `--help` never
 * pay for it), with a timeout that ends the child and what it started (SIGKILL when SIGTERM is
 * ignored), children killed when we exit (execa's cleanup), and a register so an interrupt can end
 * them before we do.
 */
import type { ChildProcess } from 'node:child_process';
import { parentPids } from './process-table.js';

/** Anything with a pid and kill(): a raw ChildProcess or an execa subprocess. */
interface Killable {
  pid?: number;
  kill(signal?: NodeJS.Signals): boolean;
}

/** Children still running, so an interrupt can end them too (a signal sent to our pid alone reaches only us). */
const running = new Set<Killable>();

export function trackChild(child: ChildProcess): void {
  running.add(child);
  child.on('close', () => running.delete(child));
}

export function killRunningChildren(): void {
  for (const c of running) killTree(c, 'SIGTERM');
}

/**
 * Signals a child and everything it started. A grandchild (`sh -c` running `sleep`, `airflow`
 * forking workers) would otherwise keep our pipes open and outlive us; it is found before the
 * child dies, since an orphan is re-parented to init and cannot be told apart afterwards.
 */
function killTree(child: Killable, signal: NodeJS.Signals): void {
  const root = child.pid;
  if (root === undefined) return;
  const parents = parentPids();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  for (const pid of tree.reverse()) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Ends `child` and its descendants after `ms`: SIGTERM, then SIGKILL after the grace period. Returns a cancel and a flag. */
function deadline(child: Killable, ms: number): { cancel: () => void; fired: () => boolean } {
  let fired = false;
  let kill: NodeJS.Timeout | undefined;
  const term = setTimeout(() => {
    fired = true;
    killTree(child, 'SIGTERM');
    kill = setTimeout(() => killTree(child, 'SIGKILL'), KILL_GRACE_MS);
    kill.unref();
  }, ms);
  term.unref();
  return {
    cancel: () => {
      clearTimeout(term);
      if (kill) clearTimeout(kill);
    },
    fired: () => fired,
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Why it failed when it could not run at all, exited non-zero or was killed (spawn error, timeout). */
  error?: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
  input?: string;
}

/** How long a child gets between SIGTERM (timeout, interrupt) and SIGKILL. */
const KILL_GRACE_MS = 5_000;

function exitCode(r: { exitCode?: number; signal?: string; failed: boolean }): number {
  if (typeof r.exitCode === 'number') return r.exitCode;
  return r.failed ? (r.signal ? 128 + (signalNumber(r.signal) ?? 1) : 127) : 0;
}

function signalNumber(name: string): number | undefined {
  const n = ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[name];
  return n;
}

function whyFailed(
  r: { failed: boolean; shortMessage?: string; exitCode?: number },
  timedOut: boolean,
  file: string,
  timeoutMs: number,
): string | undefined {
  if (timedOut) return `${file} timed out after ${Math.round(timeoutMs / 1000)} s`;
  if (!r.failed) return undefined;
  return r.shortMessage ?? `${file} failed`;
}

/** What every child gets: exactly the env given (no silent merge with ours), execa's cleanup on exit, results instead of throws. */
function childOptions(opts: Pick<RunOptions, 'env' | 'cwd'>) {
  return { env: opts.env ?? process.env, extendEnv: false, cwd: opts.cwd, cleanup: true, reject: false } as const;
}

/** Runs `file args` to completion with its output collected. Never throws: the result says what happened. */
export async function runFile(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const { execa } = await import('execa');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const sub = execa(file, args, {
    ...childOptions(opts),
    stripFinalNewline: false,
    maxBuffer: 32 * 1024 * 1024,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  running.add(sub);
  const timer = deadline(sub, timeoutMs);
  try {
    const r = await sub;
    return {
      code: exitCode(r),
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      error: whyFailed(r, timer.fired(), file, timeoutMs),
    };
  } finally {
    timer.cancel();
    running.delete(sub);
  }
}

export interface StreamResult {
  code: number;
  /** The last few non-empty lines of stdout and stderr together, for an error message. */
  tail: string[];
  error?: string;
}

/**
 * Runs `file args` and hands each non-empty output line (stdout and stderr interleaved) to
 * `onLine` as it arrives, keeping only a short tail: memory stays bounded however much it prints.
 */
export async function runLines(
  file: string,
  args: string[],
  onLine: (line: string) => void,
  opts: Omit<RunOptions, 'input'> & { tailLines?: number } = {},
): Promise<StreamResult> {
  const { execa } = await import('execa');
  const timeoutMs = opts.timeoutMs ?? 3_600_000;
  const keep = opts.tailLines ?? 5;
  const sub = execa(file, args, {
    ...childOptions(opts),
    stdin: 'ignore',
    all: true,
    buffer: false,
  });
  running.add(sub);
  const timer = deadline(sub, timeoutMs);
  const tail: string[] = [];
  try {
    for await (const raw of sub.iterable({ from: 'all' })) {
      const line = String(raw).trim();
      if (!line) continue;
      tail.push(line);
      if (tail.length > keep) tail.shift();
      onLine(line);
    }
  } catch {
    /* the process failed to start or was killed: the awaited result below says which */
  }
  try {
    const r = await sub;
    return { code: exitCode(r), tail, error: whyFailed(r, timer.fired(), file, timeoutMs) };
  } finally {
    timer.cancel();
    running.delete(sub);
  }
}
