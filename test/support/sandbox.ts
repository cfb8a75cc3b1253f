/**
 * e2e helpers: a fresh temp dir with its own HOME for every test, the built CLI run as a
 * subprocess without a TTY, free loopback ports, and a sweep for server processes left behind.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { BIN, scaled } from './env.js';
import { isAlive } from '../../src/vault/server.js';

export const TEMP_PREFIX = 'css-e2e-';

export interface Workspace {
  root: string;
  home: string;
  /** The dir the CLI runs in. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A temp workspace whose PATH puts the server binary's dir first and whose HOME is fresh. */
export function workspace(serverBin: string | undefined, extraEnv: NodeJS.ProcessEnv = {}): Workspace {
  const root = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  mkdirSync(home);
  mkdirSync(cwd);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1', ...extraEnv };
  for (const k of Object.keys(env)) {
    if (/^(VAULT_|BAO_|AIRFLOW_CONN_|AIRFLOW__)/.test(k)) delete env[k];
  }
  if (serverBin) env.PATH = `${dirname(serverBin)}${delimiter}${process.env.PATH ?? ''}`;
  Object.assign(env, extraEnv);
  return { root, home, cwd, env };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The tool as users run it: the installed bin (some tests run `node dist/cli.js` directly). */
export function runCli(
  ws: Workspace,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; signalAfterMs?: number } = {},
): Promise<Run> {
  return runProcess(BIN, args, {
    cwd: ws.cwd,
    env: { ...ws.env, ...opts.env },
    timeoutMs: opts.timeoutMs,
    signalAfterMs: opts.signalAfterMs,
  });
}

export function runProcess(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; signalAfterMs?: number; input?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? scaled(90_000));
    const sig =
      opts.signalAfterMs !== undefined ? setTimeout(() => child.kill('SIGINT'), opts.signalAfterMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (sig) clearTimeout(sig);
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr });
    });
  });
}

/** A port that is free now, with its neighbour free too (the dev server binds PORT+1 for clustering). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await canBind(port)) && (await canBind(port + 1))) return port;
  }
}

/** The first of `n` consecutive ports that are all free now. */
export async function freePorts(n: number): Promise<number> {
  for (;;) {
    const first = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let p = first; ok && p < first + n; p++) ok = await canBind(p);
    if (ok) return first;
  }
}

export function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Holds a port the way a foreign program would. */
export function holdPort(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((sock) => sock.destroy());
    s.once('error', reject);
    s.listen({ port, host }, () => resolve(s));
  });
}

/** Live `server -dev` processes whose cwd lies under `root` (the tool runs its server in .sandbox/home). */
export function serversUnder(root: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (!cmdline.includes(' server ') || !cmdline.includes('-dev')) continue;
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd.startsWith(root) && isAlive(pid)) out.push({ pid, cmdline });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

/** Kill whatever a test left running, then remove its files. Returns what had to be killed. */
export function cleanup(ws: Workspace): { pid: number; cmdline: string }[] {
  const left = serversUnder(ws.root);
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmSync(ws.root, { recursive: true, force: true });
  return left;
}

export function readJson<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(text) as T;
}

/** A dev server started by hand, the way a user following a guide would, under the workspace (so cleanup finds it). */
export async function startManualServer(
  ws: Workspace,
  serverBin: string,
  extraArgs: string[] = [],
): Promise<{ url: string; token: string; pid: number }> {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const token = 'manual-root-token';
  const child = spawn(
    serverBin,
    ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, '-dev-no-store-token', ...extraArgs],
    {
      cwd: ws.root,
      env: { ...ws.env, VAULT_DEV_ROOT_TOKEN_ID: token, BAO_DEV_ROOT_TOKEN_ID: token },
      stdio: 'ignore',
      detached: true,
    },
  );
  child.unref();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/v1/sys/health`)).status === 200) return { url, token, pid: child.pid! };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('manual dev server did not become ready');
}

/** SIGTERM a process and wait until it is gone (or a zombie). */
export async function killAndWait(pid: number, timeoutMs = 10_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!isAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  process.kill(pid, 'SIGKILL');
}

/** Every live process whose cwd lies under `root`, whatever it runs (fake binaries included). */
export function processesUnder(root: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(root) && isAlive(Number(entry))) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** A stand-in server binary (a shell script) for faults a real server cannot be made to show on demand. */
export function fakeBinary(
  dir: string,
  name: string,
  serverScript: string,
  versionLine = 'Vault v1.19.0 (0000000), built 2025-03-04T12:36:40Z',
): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\nif [ "$1" = version ]; then echo '${versionLine}'; exit 0; fi\n${serverScript}\n`);
  chmodSync(file, 0o755);
  return file;
}

/**
 * A `ws()` that makes workspaces for the current test file and, after each test, asserts that none
 * left a server running (then removes them).
 */
export function workspaces(serverBin: string | undefined): (extra?: NodeJS.ProcessEnv) => Workspace {
  const spaces: Workspace[] = [];
  afterEach(() => {
    for (const w of spaces.splice(0)) expect(cleanup(w), 'a server process was left running').toEqual([]);
  });
  return (extra = {}) => {
    const w = workspace(serverBin, extra);
    spaces.push(w);
    return w;
  };
}

/** The KEY='value' lines of a sandbox .env, read independently of the tool's own parser. */
export function envOf(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(dir, '.env'), 'utf8').split('\n')) {
    const mm = line.match(/^([A-Z_]+)='(.*)'$/);
    if (mm) m.set(mm[1]!, mm[2]!.replace(/'\\''/g, "'"));
  }
  return m;
}
