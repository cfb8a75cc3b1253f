/**
 * For the `--check run` tests: the CLI run with its output read as it comes (to act when a line
 * appears: SIGINT mid-run, kill the server), and a scan for what a run may leave behind: Airflow
 * processes of the workspace (by working dir, command line or environment) and listening sockets.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { BIN, scaled } from './env.js';
import type { Run, Workspace } from './sandbox.js';

/** Runs the CLI; `onLine(line, child)` sees every line of stdout and stderr as it arrives. */
export function runCliWatching(
  ws: Workspace,
  args: string[],
  onLine: (line: string, signal: (sig: NodeJS.Signals) => void) => void,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: ws.cwd, env: { ...ws.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const signal = (sig: NodeJS.Signals) => child.kill(sig);
    const feed = (buf: { text: string }, chunk: string, sink: (s: string) => void) => {
      sink(chunk);
      buf.text += chunk;
      let nl = buf.text.indexOf('\n');
      while (nl >= 0) {
        onLine(buf.text.slice(0, nl), signal);
        buf.text = buf.text.slice(nl + 1);
        nl = buf.text.indexOf('\n');
      }
    };
    const o = { text: '' };
    const e = { text: '' };
    child.stdout.setEncoding('utf8').on('data', (d: string) => feed(o, d, (s) => (stdout += s)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => feed(e, d, (s) => (stderr += s)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? scaled(240_000));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code: code ?? (sig ? 128 + 9 : 1), stdout, stderr });
    });
  });
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Live Airflow processes that belong to the workspace: an airflow command line (or a Python one,
 * for task runners and the run driver), and the workspace's path in the working dir, the command
 * line or the environment (setproctitle hides the latter two for some; the cwd stays).
 */
export function airflowProcessesUnder(root: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const pid = Number(entry);
    const stat = read(`/proc/${pid}/stat`);
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
    const cmdline = read(`/proc/${pid}/cmdline`).split('\0').join(' ');
    // The sandbox's dev server (its binary may live in a Python venv) is not Airflow's.
    if (!/airflow|python/.test(cmdline) || / server .*-dev/.test(cmdline)) continue;
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      /* gone */
    }
    if (cwd.startsWith(root) || cmdline.includes(root) || read(`/proc/${pid}/environ`).includes(root))
      out.push({ pid, cmdline: cmdline.slice(0, 200) });
  }
  return out;
}

/** The local TCP ports something listens on (IPv4 and IPv6), from /proc/net. */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of read(f).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN.
      if (cols[3] === '0A' && cols[1]) ports.add(Number.parseInt(cols[1].split(':')[1] ?? '', 16));
    }
  }
  return ports;
}

/** The loopback ports a run said it started components on ("api-server (127.0.0.1:PORT)"). */
export function portsOfRun(output: string): number[] {
  return [...output.matchAll(/\(127\.0\.0\.1:(\d+)\)/g)].map((m) => Number(m[1]));
}

/** Airflow's task states in the order a successful task passes them. */
export const TASK_ORDER = ['none', 'scheduled', 'queued', 'running', 'success'];

/** The states the run printed for one task (lines `  <task>: <state>`), in order. */
export function taskStates(out: string, task: string): string[] {
  const esc = task.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [...out.matchAll(new RegExp(`^\\s*${esc}: (\\w+)$`, 'gm'))].map((m) => m[1] ?? '');
}
