/**
 * Real Airflow's CLI, a few seconds cheaper per call: one fork server (airflow_oracle.py) per
 * Airflow venv, which imports the heavy third-party libraries once and forks a child per call that
 * imports Airflow fresh and runs its own CLI entry with the call's argv, environment and cwd.
 * test/e2e/airflow-oracle.airflow.test.ts holds it to the plain `airflow` command's answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, scaled } from './env.js';
import type { Run } from './sandbox.js';

const SERVER = join(ROOT, 'test', 'support', 'airflow_oracle.py');

export interface OracleInfo {
  major: string;
  preloaded: string[];
  failed: string[];
  /** Variables the preloaded modules read at import; a call that changes one is refused. */
  envRead: string[];
  ms: number;
}

interface Reply {
  code?: number;
  stdout?: string;
  stderr?: string;
  ms?: number;
  timedOut?: boolean;
  error?: string;
}

/**
 * The venv's python as the fork server stands in for it: `python ARGS` sent over the server's
 * socket with this process's stdin, stdout and stderr; the real interpreter when the server
 * cannot run it faithfully (the reason goes to fallbacks.log).
 */
const SHIM = (python: string, socketPath: string, log: string): string => `#!${python} -IS
import json, os, signal, socket, sys

args = sys.argv[1:]


def real(why):
    with open(${JSON.stringify(log)}, "a") as f:
        f.write(json.dumps({"args": args[:1], "why": why}) + "\\n")
    os.execv(${JSON.stringify(python)}, [${JSON.stringify(python)}, *args])


try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(${JSON.stringify(socketPath)})
except OSError as e:
    real(str(e))
req = json.dumps({"python": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode() + b"\\n"
socket.send_fds(s, [req[:1]], [0, 1, 2])
s.sendall(req[1:])
buf = b""
while not buf.endswith(b"\\n"):
    chunk = s.recv(65536)
    if not chunk:
        sys.exit(70)
    buf += chunk
reply = json.loads(buf)
if "error" in reply:
    real(reply["error"])
code = reply["code"]
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
`;

export class AirflowOracle {
  /** Calls answered and the milliseconds their children took, for the files' timing lines. */
  calls = 0;
  info!: OracleInfo;
  callMs = 0;
  /**
   * With `shimDir`: a dir holding `python` (the shim) and `airflow` (the venv's script run by the
   * shim), to put first on PATH so that a program asking that Airflow gets the server's start.
   */
  shimDir?: string;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: ((line: string | undefined) => void)[] = [];
  private buffered: string[] = [];
  private stderrTail = '';
  private closed = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly airflow: string,
  ) {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.deliver(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-4000)));
    child.on('close', () => {
      this.closed = true;
      for (const p of this.pending.splice(0)) p(undefined);
    });
  }

  /**
   * Starts the server for the venv whose bin dir is `venvBin`, with `env` as its own environment
   * (a call's environment should differ from it only in what the call is about) and `cwd` (under a
   * workspace, so a process left behind is found there).
   */
  static async start(
    venvBin: string,
    opts: { env: NodeJS.ProcessEnv; cwd: string; shimDir?: string },
  ): Promise<AirflowOracle> {
    const airflow = join(venvBin, 'airflow');
    // The interpreter the `airflow` script names (its venv as the script sees it: module paths in
    // warnings and tracebacks come out the same), not one reached through another path.
    const script = readFileSync(airflow, 'utf8');
    const python = /^#!(\S+)/.exec(script)?.[1];
    if (!python) throw new Error(`${airflow} does not start with #!python`);
    const args = [SERVER, airflow];
    if (opts.shimDir) {
      mkdirSync(opts.shimDir, { recursive: true });
      const socketPath = join(opts.shimDir, 'oracle.sock');
      writeFileSync(join(opts.shimDir, 'python'), SHIM(python, socketPath, join(opts.shimDir, 'fallbacks.log')));
      writeFileSync(join(opts.shimDir, 'airflow'), script.replace(/^#!\S+/, `#!${join(opts.shimDir, 'python')}`));
      chmodSync(join(opts.shimDir, 'python'), 0o755);
      chmodSync(join(opts.shimDir, 'airflow'), 0o755);
      args.push(socketPath);
    }
    const child = spawn(python, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const oracle = new AirflowOracle(child, airflow);
    oracle.shimDir = opts.shimDir;
    const line = await oracle.next(scaled(60_000));
    if (line === undefined) throw new Error(`the Airflow oracle did not start: ${oracle.stderrTail}`);
    const info = JSON.parse(line) as OracleInfo & { ready?: boolean };
    if (!info.ready) throw new Error(`the Airflow oracle did not start: ${line}`);
    oracle.info = info;
    return oracle;
  }

  /** `airflow ...argv` with this environment (the whole of it) and cwd, as the CLI process would answer. */
  run(argv: string[], opts: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number }): Promise<Run> {
    const env = Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined));
    const timeoutMs = opts.timeoutMs ?? scaled(90_000);
    const call = this.queue.then(async () => {
      if (this.closed) throw new Error(`the Airflow oracle is gone: ${this.stderrTail}`);
      this.child.stdin!.write(`${JSON.stringify({ argv, env, cwd: opts.cwd, timeout: timeoutMs / 1000 })}\n`);
      // The server kills a child at timeoutMs; the margin is for its own reply.
      const line = await this.next(timeoutMs + scaled(30_000));
      if (line === undefined) {
        // A late answer would be taken for the next call's: this server is done.
        this.child.kill('SIGKILL');
        throw new Error(`the Airflow oracle did not answer airflow ${argv.join(' ')}: ${this.stderrTail}`);
      }
      const r = JSON.parse(line) as Reply;
      if (r.error !== undefined) throw new Error(`the Airflow oracle refused airflow ${argv.join(' ')}: ${r.error}`);
      this.calls++;
      this.callMs += r.ms ?? 0;
      // As runProcess reports a child killed by a signal.
      const code = r.code! < 0 ? 128 - r.code! : r.code!;
      return { code, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    });
    this.queue = call.catch(() => undefined);
    return call;
  }

  /** Why the shim ran the real interpreter instead, one entry per time. */
  fallbacks(): { args: string[]; why: string }[] {
    const log = this.shimDir ? join(this.shimDir, 'fallbacks.log') : undefined;
    if (!log || !existsSync(log)) return [];
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { args: string[]; why: string });
  }

  /** Ends the server (EOF on its stdin) and waits until it is gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    const gone = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), scaled(30_000));
    await gone;
    clearTimeout(timer);
  }

  private deliver(line: string): void {
    const p = this.pending.shift();
    if (p) p(line);
    else this.buffered.push(line);
  }

  private next(timeoutMs: number): Promise<string | undefined> {
    const line = this.buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((p) => p !== done);
        resolve(undefined);
      }, timeoutMs);
      const done = (l: string | undefined): void => {
        clearTimeout(timer);
        resolve(l);
      };
      this.pending.push(done);
    });
  }
}
