/**
 * Starts one Airflow component: detached into a process group of its own (so it and everything it
 * forks can be stopped together, and a Ctrl-C at the terminal reaches us, not it), its output into
 * a private file opened as a descriptor (a pipe would kill a kept component with SIGPIPE once the
 * CLI exits), its working dir the private AIRFLOW_HOME.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { openPrivateFile } from '../../io/private.js';
import { readUserFileWindowIfExists } from '../../io/read.js';
import type { ComponentName, ComponentSpec } from './components.js';

export interface ComponentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when it could not be started at all. */
  error?: string;
}

export interface RunningComponent {
  name: ComponentName;
  pid: number;
  port?: number;
  /** Its stdout and stderr together. */
  outFile: string;
  /** Set once it has exited. */
  exit?: ComponentExit;
  exited: Promise<ComponentExit>;
}

export function spawnComponent(
  airflowBin: string,
  spec: ComponentSpec,
  env: NodeJS.ProcessEnv,
  cwd: string,
  outFile: string,
): RunningComponent {
  const fd = openPrivateFile(outFile, 0o600);
  let child;
  try {
    child = spawn(airflowBin, spec.args, { detached: true, stdio: ['ignore', fd, fd], env, cwd });
  } finally {
    closeSync(fd);
  }
  const running: RunningComponent = {
    name: spec.name,
    pid: child.pid ?? -1,
    port: spec.port,
    outFile,
    exited: new Promise<ComponentExit>((resolve) => {
      child.on('error', (e) => resolve({ code: null, signal: null, error: e.message }));
      child.on('exit', (code, signal) => resolve({ code, signal }));
    }),
  };
  void running.exited.then((e) => (running.exit = e));
  // The CLI may exit while it runs (--keep): nothing of ours waits for it then.
  child.unref();
  return running;
}

/**
 * The end of a file Airflow writes (a component's output, a task's log), which may have grown large
 * (a kept scheduler's output): at most `bytes` of it, through the one reader; '' when it is not there.
 */
export function readEnd(path: string, what: string, bytes = 64 * 1024): string {
  try {
    return readUserFileWindowIfExists(path, { what, maxBytes: bytes, from: 'end', ownerCheck: true }) ?? '';
  } catch {
    // Refused (not a regular file of ours): there is no output to show from it.
    return '';
  }
}

/** The last lines a component printed, for an error message (its traceback, usually). */
export function outputTail(outFile: string, lines = 8): string[] {
  return readEnd(outFile, "a component's output")
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-lines)
    .map((l) => l.slice(0, 400));
}

/** How a component ended, in words. */
export function describeExit(e: ComponentExit): string {
  if (e.error) return `could not be started: ${e.error}`;
  if (e.signal) return `was killed by ${e.signal}`;
  return `exited with code ${e.code}`;
}
