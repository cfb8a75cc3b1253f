/** Running other programs: collected output, a timeout, and a register so an interrupt can end them. */
import { execFile, type ChildProcess } from 'node:child_process';

/** Children still running, so an interrupt can end them too (a signal sent to our pid alone reaches only us). */
const running = new Set<ChildProcess>();

export function trackChild(child: ChildProcess): void {
  running.add(child);
  child.on('close', () => running.delete(child));
}

export function killRunningChildren(): void {
  for (const c of running) c.kill('SIGTERM');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Why it failed when it could not run at all or was killed (spawn error, timeout). */
  error?: string;
}

export function runFile(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024, cwd: opts.cwd }, (err, stdout, stderr) => {
      running.delete(child);
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), error: err?.message });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    running.add(child);
  });
}
