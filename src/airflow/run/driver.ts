/**
 * Drives one run of a DAG through the running components (the Python half is driver-py.ts): one
 * process in the user's Airflow that waits for the DAG to be parsed, triggers it when told to, and
 * reports each task's state as it changes. Its stdin stays open so the trigger waits for the word
 * of the caller, who knows when every component is healthy.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { trackChild } from '../../process.js';
import { DRIVER_MARKER, DRIVER_PY } from './driver-py.js';

export interface TaskEnd {
  task_id: string;
  state: string | null;
  /** The task's log file, as Airflow's file task handler names it (null when it could not say). */
  log: string | null;
}

export type DriverEvent =
  | { event: 'imported'; seconds: number }
  | { event: 'import_error'; file: string; stacktrace: string }
  | { event: 'parsed'; seconds: number }
  | { event: 'triggered'; run_id: string; seconds: number }
  | { event: 'task'; task_id: string; state: string | null; try_number: number }
  | { event: 'done'; state: 'success' | 'failed'; run_id: string; tasks: TaskEnd[]; seconds: number };

export interface DriverRequest {
  dag_id: string;
  /** The DAG file's path (its basename is matched against Airflow's import errors). */
  dag_file: string;
  /** Epoch seconds: a parse or import error older than this is a previous run's. */
  since: number;
  poll?: number;
}

export interface DriverExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines it printed that were not reports: Airflow's own error, when it failed. */
  tail: string[];
}

export interface Driver {
  /** Tell it the components are healthy: unpause and trigger. */
  go(): void;
  kill(): void;
  exited: Promise<DriverExit>;
}

const TAIL_LINES = 12;

export function startDriver(
  python: string,
  req: DriverRequest,
  env: NodeJS.ProcessEnv,
  onEvent: (e: DriverEvent) => void,
): Driver {
  const child = spawn(python, ['-c', DRIVER_PY], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  const tail: string[] = [];
  const keep = (line: string) => {
    if (!line.trim()) return;
    tail.push(line.slice(0, 500));
    if (tail.length > TAIL_LINES) tail.shift();
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith(DRIVER_MARKER)) return keep(line);
    try {
      onEvent(JSON.parse(line.slice(DRIVER_MARKER.length)) as DriverEvent);
    } catch {
      keep(line);
    }
  });
  createInterface({ input: child.stderr }).on('line', keep);
  // A driver that died must not take us with it through EPIPE on its stdin.
  child.stdin.on('error', () => {});
  child.stdin.write(`${JSON.stringify(req)}\n`);
  const exited = new Promise<DriverExit>((resolve) => {
    child.on('error', (e) => {
      keep(`${python}: ${e.message}`);
      resolve({ code: null, signal: null, tail });
    });
    child.on('close', (code, signal) => resolve({ code, signal, tail }));
  });
  return {
    go: () => {
      child.stdin.end('go\n');
    },
    kill: () => {
      child.kill('SIGTERM');
    },
    exited,
  };
}
