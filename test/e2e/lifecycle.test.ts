/**
 * Reruns, up, down and doctor --fix converge (issue 12), on a real server. The rerun matrix runs
 * every operation {create --yes, rerun, up after down, up after a killed server, doctor --fix}
 * under every condition {default port free, taken at creation, taken later, IPv6 loopback, binary
 * only on the first run's PATH, --config FILE, a copied sandbox dir, two runs at once}; after each
 * one: exit 0, exactly one server per sandbox, serving every seeded secret at the address in .env.
 * The "default port" is a random free one, moved there with SECRETS_SANDBOX_DEFAULT_PORT.
 */
import { cpSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { missing, serverBinary, scaled } from '../support/env.js';
import {
  envOf,
  canBind,
  freePort,
  holdPort,
  readJson,
  runCli,
  serversUnder,
  workspaces,
  type Run,
  type Workspace,
} from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);
const CONNS: [string, string][] = [
  ['pg', 'postgres://u:p%40ss@db:5432/app'],
  ['api', 'http://user:pw@api.example.com:8080'],
];
const CONN_ARGS = CONNS.flatMap(([id, uri]) => ['--conn', `${id}=${uri}`]);
/** PATH without the server binary's dir: only node and the system. */
const BARE_PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;

function serversOf(dir: string) {
  return serversUnder(join(dir, '.sandbox') + '/');
}

/** The invariant of every cell: one server for this sandbox, serving every seeded connection at the .env address with the .env token. */
async function assertConverged(dir: string, what: string): Promise<string> {
  const servers = serversOf(dir);
  expect(servers, `${what}: servers of ${dir}`).toHaveLength(1);
  const env = envOf(dir);
  const addr = env.get('VAULT_ADDR')!;
  const token = env.get('VAULT_TOKEN')!;
  expect(servers[0]!.cmdline, what).toContain(`-dev-listen-address=${addr.replace('http://', '')}`);
  for (const [id, uri] of CONNS) {
    const res = await fetch(`${addr}/v1/secret/data/connections/${id}`, { headers: { 'X-Vault-Token': token } });
    expect(res.status, `${what}: ${id} at ${addr}`).toBe(200);
    const body = (await res.json()) as { data: { data: { conn_uri: string } } };
    expect(body.data.data.conn_uri, what).toBe(uri);
  }
  return addr;
}

function ok(r: Run, what: string): Run {
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stderr, what).not.toMatch(/unexpected error|at .*\.js:\d+/);
  return r;
}

function killServers(dir: string): void {
  const servers = serversOf(dir);
  expect(servers, `a server of ${dir} to kill`).toHaveLength(1);
  for (const s of servers) process.kill(s.pid, 'SIGKILL');
}

async function gone(dir: string): Promise<void> {
  for (let i = 0; i < 200 && serversOf(dir).length; i++) await new Promise((r) => setTimeout(r, 25));
}

interface Condition {
  name: string;
  /** Extra args for create and reruns. */
  args?: (port: number) => string[];
  /** Env for every run after the first (PATH changes). */
  laterEnv?: NodeJS.ProcessEnv;
  /** Before the first op. */
  setup?: (w: Workspace, port: number) => Promise<Server | void>;
  /** Before the op at this index. */
  before?: Record<number, (w: Workspace, port: number) => Promise<Server | void>>;
  /** Run each op twice at once. */
  twice?: boolean;
  /** The sandbox dir the ops act on, if not ./secrets-sandbox. */
  copied?: boolean;
  skip?: () => Promise<string | undefined>;
}

const CONDITIONS: Condition[] = [
  { name: 'default port free' },
  { name: 'default port taken at creation', setup: (_w, port) => holdPort(port) },
  {
    name: 'default port taken later',
    // Between `down` and `up`, another program takes the port the sandbox had.
    before: {
      2: async (w, port) => {
        ok(await runCli(w, ['down']), 'down');
        return holdPort(port);
      },
    },
  },
  {
    name: 'IPv6 loopback [::1]',
    args: (port) => ['--address', `[::1]:${port}`],
    skip: async () => ((await canBind(0, '::1')) ? undefined : 'no IPv6 loopback on this machine'),
  },
  { name: "binary only on the first run's PATH", laterEnv: { PATH: BARE_PATH } },
  {
    name: '--config FILE',
    args: () => ['--config', 'conf/sb.yaml'],
    setup: async (w) => {
      mkdirSync(join(w.cwd, 'conf'));
      writeFileSync(join(w.cwd, 'conf', 'sb.yaml'), '# team settings: keep this comment\nversion: 1\n');
    },
  },
  { name: 'a copied sandbox dir', copied: true },
  { name: 'two runs at once', twice: true },
];

type Op = {
  name: string;
  run: (
    cli: (args: string[]) => Promise<Run>,
    dir: string,
    base: string[],
    w: Workspace,
    env?: NodeJS.ProcessEnv,
  ) => Promise<void>;
};

const OPS: Op[] = [
  {
    name: 'create --yes',
    run: async (cli, dir, base) => void ok(await cli([dir, '--yes', ...base, ...CONN_ARGS]), 'create'),
  },
  { name: 'rerun', run: async (cli, dir, base) => void ok(await cli([dir, '--yes', ...base]), 'rerun') },
  {
    name: 'up after down',
    run: async (cli, dir) => {
      const down = ok(await cli(['down', dir]), 'down');
      expect(down.stdout).toMatch(/stopped|not running|nothing to stop/);
      ok(await cli(['up', dir]), 'up');
    },
  },
  {
    name: 'up after a killed server',
    run: async (cli, dir) => {
      killServers(dir);
      await gone(dir);
      ok(await cli(['up', dir]), 'up');
    },
  },
  {
    name: 'doctor --fix',
    run: async (cli, dir) => {
      killServers(dir);
      await gone(dir);
      ok(await cli(['doctor', '--fix', dir]), 'doctor --fix');
    },
  },
  {
    name: 'wizard with every default',
    // A rerun through the questions, Enter on each: what is offered (the config's, else the default) is kept.
    run: async (_cli, dir, base, w, env) => {
      // A flag answers its question: no prompt for it.
      const steps: [string, string][] = [
        ...(base.includes('--address') ? [] : ['Listen address']),
        'Root token',
        'KV mount',
        'connections_path',
        'variables_path',
        'How Airflow logs in',
        'Airflow version',
        // The config holds the create's connections: the rerun asks which to keep (Enter keeps all).
        'Connections to keep',
        'Connection ID=URI',
        'Variable KEY=VALUE',
        'Write the example DAG',
        'Final check',
        'Go ahead\\?',
      ].map((q) => [q, '\r']);
      steps.push(['Sandbox ready', '']);
      const out = await wizard(w, [dir, ...base], steps, env);
      expect(out.stuck_at, out.transcript.slice(-2000)).toBeNull();
      expect(out.code, out.transcript.slice(-2000)).toBe(0);
    },
  },
];

/** The CLI in a real pseudo-terminal (Python's pty from the project venv), answered key by key. */
async function wizard(
  w: Workspace,
  args: string[],
  steps: [string, string][],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number; transcript: string; stuck_at: number | null }> {
  const { VENV_PYTHON, ROOT, CLI } = await import('../support/env.js');
  const { runProcess } = await import('../support/sandbox.js');
  const r = await runProcess(VENV_PYTHON, [join(ROOT, 'test', 'support', 'pty_drive.py')], {
    input: JSON.stringify({
      cmd: [process.execPath, CLI, ...args],
      cwd: w.cwd,
      env: { ...w.env, ...env, TERM: 'xterm-256color', COLUMNS: '200', LINES: '50' },
      steps,
      timeout: 120,
    }),
    timeoutMs: scaled(150_000),
  });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { code: number; transcript: string; stuck_at: number | null };
}

describe.skipIf(skipReason)('the rerun matrix: every cell converges', () => {
  for (const c of CONDITIONS) {
    it(
      `${c.name}: create, rerun, up after down, up after a kill, doctor --fix, the wizard with defaults`,
      async (t) => {
        const reason = await c.skip?.();
        if (reason) t.skip(reason);
        const w = ws();
        const port = await freePort();
        w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(port);
        const held: Server[] = [];
        try {
          const h = await c.setup?.(w, port);
          if (h) held.push(h);
          const base = c.args?.(port) ?? [];
          let dir = join(w.cwd, 'secrets-sandbox');
          let other: string | undefined;
          let otherPid: number | undefined;
          for (const [i, op] of OPS.entries()) {
            const hb = await c.before?.[i]?.(w, port);
            if (hb) held.push(hb);
            const env = i > 0 ? c.laterEnv : undefined;
            const one = (args: string[]) => runCli(w, args, { env, timeoutMs: scaled(120_000) });
            const cli = c.twice
              ? async (args: string[]) => {
                  const [a, b] = await Promise.all([one(args), one(args)]);
                  ok(a, `first of two: ${args.join(' ')}`);
                  return b;
                }
              : one;
            await op.run(cli, dir, base, w, env);
            await assertConverged(dir, `${c.name} / ${op.name}`);
            if (c.copied && i === 0) {
              // Copy the running sandbox (state.json, .env and all); from here on the ops act on the copy.
              other = dir;
              otherPid = serversOf(other)[0]!.pid;
              dir = join(w.cwd, 'copy');
              cpSync(other, dir, { recursive: true });
            }
            if (other) {
              // The original's server is never adopted, stopped or replaced by what happens to the copy.
              expect(
                serversOf(other).map((s) => s.pid),
                `${op.name}: the original sandbox's server`,
              ).toEqual([otherPid]);
            }
          }
          if (c.name === 'default port taken at creation') {
            // The port moved once (said aloud); the config does not claim the port as if the user had chosen it.
            expect(readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8')).not.toContain('address');
            expect(envOf(dir).get('VAULT_ADDR')).not.toBe(`http://127.0.0.1:${port}`);
          }
          if (c.name === 'IPv6 loopback [::1]') {
            expect(readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8')).toContain(`[::1]:${port}`);
            expect(envOf(dir).get('VAULT_ADDR')).toBe(`http://[::1]:${port}`);
          }
          if (c.name === '--config FILE') {
            expect(existsSync(join(dir, 'secrets-sandbox.yaml')), 'no config beside the one named').toBe(false);
            const named = readFileSync(join(w.cwd, 'conf', 'sb.yaml'), 'utf8');
            expect(named).toContain('pg: postgres://u:p%40ss@db:5432/app');
            expect(named).toContain('# team settings: keep this comment');
          }
          ok(await runCli(w, ['down', c.copied ? dir : 'secrets-sandbox'], { env: c.laterEnv }), 'final down');
          expect(serversOf(dir)).toEqual([]);
          if (other) ok(await runCli(w, ['down', other]), 'down of the original');
        } finally {
          for (const s of held) s.close();
        }
      },
      scaled(600_000),
    );
  }
});

/** Spawns the CLI and hands back the child, for signals and pipes. */
async function spawnCli(w: Workspace, args: string[]) {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('../support/env.js');
  const child = spawn(process.execPath, [CLI, ...args], { cwd: w.cwd, env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((res) =>
    child.on('close', (code, sig) => res({ code: code ?? (sig ? 128 : 1), stdout, stderr })),
  );
  return { child, done };
}

async function waitFor(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(skipReason)('each case of issue 12', () => {
  it('--airflow-version auto on the command line beats a version in the config', async () => {
    const w = ws({ PATH: BARE_PATH + ':' + dirname(BIN!) });
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(dir);
    writeFileSync(join(dir, 'secrets-sandbox.yaml'), 'version: 1\nairflow:\n  version: "2"\n');
    const r = ok(
      await runCli(w, [
        '--yes',
        '--json',
        '--check',
        'vault',
        '--address',
        `127.0.0.1:${await freePort()}`,
        '--airflow-version',
        'auto',
      ]),
      'auto',
    );
    const j = readJson<{ airflow: { version: string; version_source: string } }>(r.stdout);
    // No Airflow on this PATH: auto falls to the default 3, not to the config's 2.
    expect(j.airflow).toMatchObject({ version: '3', version_source: 'default' });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toContain('airflow.providers.hashicorp.secrets.vault.VaultBackend');
    ok(await runCli(w, ['down']), 'down');
  });

  it('doctor --fix restores a killed server without rewriting the config, and keeps a .env the user edited', async () => {
    const w = ws();
    w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    ok(await runCli(w, ['--yes', ...CONN_ARGS]), 'create');
    const dir = join(w.cwd, 'secrets-sandbox');
    const cfgPath = join(dir, 'secrets-sandbox.yaml');
    writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8') + '# my note\n');
    const cfgBefore = readFileSync(cfgPath, 'utf8');
    killServers(dir);
    await gone(dir);
    ok(await runCli(w, ['doctor', '--fix']), 'doctor --fix');
    expect(readFileSync(cfgPath, 'utf8')).toBe(cfgBefore);
    await assertConverged(dir, 'doctor --fix');
    // A .env the user edited is theirs: up keeps it, says so and why, and stops what it started when the check then fails.
    const envPath = join(dir, '.env');
    writeFileSync(envPath, readFileSync(envPath, 'utf8') + 'MY_OWN_SETTING=1\n');
    killServers(dir);
    await gone(dir);
    // The kept .env holds the killed server's token: the check fails (exit 1) and the server up started is stopped.
    const up = await runCli(w, ['up']);
    expect(readFileSync(envPath, 'utf8')).toContain('MY_OWN_SETTING=1');
    expect(up.stdout + up.stderr).toMatch(/kept secrets-sandbox\/\.env: edited by you/);
    expect(up.code, up.stdout + up.stderr).toBe(1);
    expect(up.stderr).toMatch(/✖ check: .*the server refuses the token in \.env/);
    expect(up.stderr).toContain('--force');
    expect(serversOf(dir)).toEqual([]);
    ok(await runCli(w, ['up', '--force']), 'up --force');
    await assertConverged(dir, 'up --force');
    expect(readFileSync(envPath, 'utf8')).not.toContain('MY_OWN_SETTING');
    ok(await runCli(w, ['down']), 'down');
  });

  it('--dry-run --install-server installs nothing; --dry-run on a running sandbox shows the reuse', async () => {
    const w = ws({ PATH: BARE_PATH });
    const r = ok(await runCli(w, ['--dry-run', '--json', '--install-server']), 'dry run');
    const plan = readJson<{ steps: { title: string; plan: string[] }[] }>(r.stdout);
    expect(plan.steps.flatMap((s) => s.plan).join('\n')).toContain('would install OpenBao');
    expect(existsSync(join(w.home, '.cache'))).toBe(false);
    expect(existsSync(join(w.cwd, 'secrets-sandbox'))).toBe(false);

    const w2 = ws();
    w2.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    ok(await runCli(w2, ['--yes']), 'create');
    const dir = join(w2.cwd, 'secrets-sandbox');
    const pid = serversOf(dir)[0]!.pid;
    const d = readJson<{ server: { reuse: { pid: number } | null }; files: { action: string }[] }>(
      ok(await runCli(w2, ['--dry-run', '--json']), 'dry run').stdout,
    );
    expect(d.server.reuse?.pid).toBe(pid);
    expect(new Set(d.files.map((f) => f.action))).toEqual(new Set(['unchanged']));
    ok(await runCli(w2, ['down']), 'down');
  });

  it("down stops only a server proven ours: another program's dev server on the recorded address is left alone, exit 1, record kept", async () => {
    const w = ws();
    const { startManualServer } = await import('../support/sandbox.js');
    const manual = await startManualServer(w, BIN!);
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(join(dir, '.sandbox'), { recursive: true });
    const address = manual.url.replace('http://', '');
    const state = {
      sandboxId: 'x'.repeat(24),
      dir,
      address,
      server: { pid: manual.pid, address, url: manual.url, startedAt: '', tokenSource: 'server' },
    };
    writeFileSync(join(dir, '.sandbox', 'state.json'), JSON.stringify(state));
    const down = await runCli(w, ['down']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`did not stop pid ${manual.pid}`);
    expect(down.stdout).not.toContain('stopped the sandbox server');
    expect(() => process.kill(manual.pid, 0)).not.toThrow();
    expect(JSON.parse(readFileSync(join(dir, '.sandbox', 'state.json'), 'utf8')).server.pid).toBe(manual.pid);
    const { killAndWait } = await import('../support/sandbox.js');
    await killAndWait(manual.pid);
  });

  it('status: a hung server is "not answering" (never REFUSED); a corrupt state.json is corrupt, not missing', async () => {
    const w = ws();
    w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    ok(await runCli(w, ['--yes']), 'create');
    const dir = join(w.cwd, 'secrets-sandbox');
    const pid = serversOf(dir)[0]!.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      const st = await runCli(w, ['status']);
      expect(st.code).toBe(1);
      expect(st.stdout).toContain('not answering');
      expect(st.stdout).not.toContain('REFUSED');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    ok(await runCli(w, ['status']), 'status after SIGCONT');
    ok(await runCli(w, ['down']), 'down');
    writeFileSync(join(dir, '.sandbox', 'state.json'), '{"server": {"pid": ');
    const st = await runCli(w, ['status', '--json']);
    expect(st.code).toBe(1);
    expect(readJson<{ reason: string; fix: string }>(st.stdout)).toMatchObject({
      reason: expect.stringContaining('corrupt'),
      fix: expect.stringContaining('state.json'),
    });
    const down = await runCli(w, ['down']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('corrupt');
  });

  it('one run at a time: a live run holding the lock is named after the wait (exit 1); a dead one, or a live process that is not this tool, is taken over', async () => {
    const w = ws();
    w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(join(dir, '.sandbox'), { recursive: true });
    const { spawn } = await import('node:child_process');
    const { lockText } = await import('../../src/lock.js');
    const { processCommandLine } = await import('../../src/vault/server.js');
    // A run of this tool, as its lock says: the pid and (a hash of) its command line.
    const run = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await waitFor(() => processCommandLine(run.pid ?? 0)?.includes('setTimeout') === true);
      writeFileSync(join(dir, '.sandbox', 'lock'), lockText(run.pid ?? 0, processCommandLine(run.pid ?? 0)));
      const r = await runCli(w, ['--yes'], { env: { SECRETS_SANDBOX_LOCK_WAIT: '1' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`another run (pid ${run.pid})`);
      expect(serversOf(dir)).toEqual([]);
      // A live process that is not this tool (a recycled pid, pid 1, a planted file) holds nothing.
      writeFileSync(join(dir, '.sandbox', 'lock'), `${other.pid}\n`);
      ok(await runCli(w, ['--yes'], { env: { SECRETS_SANDBOX_LOCK_WAIT: '1' } }), 'lock of a live sleep taken over');
      ok(await runCli(w, ['down']), 'down');
      writeFileSync(join(dir, '.sandbox', 'lock'), '1\n');
      ok(await runCli(w, ['--yes'], { env: { SECRETS_SANDBOX_LOCK_WAIT: '1' } }), 'lock naming pid 1 taken over');
      ok(await runCli(w, ['down']), 'down');
    } finally {
      run.kill('SIGKILL');
      other.kill('SIGKILL');
    }
    await waitFor(() => run.exitCode !== null || run.signalCode !== null);
    writeFileSync(join(dir, '.sandbox', 'lock'), `${run.pid}\n`);
    ok(await runCli(w, ['--yes']), 'stale lock taken over');
    expect(existsSync(join(dir, '.sandbox', 'lock'))).toBe(false);
    ok(await runCli(w, ['down']), 'down');
  });

  it('SIGHUP while the start step waits for the server: exit 130, the half-started server stopped, no files; the rerun converges', async () => {
    const w = ws();
    w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    const dir = join(w.cwd, 'secrets-sandbox');
    // The real server behind a pause: the run is inside the start step (intent recorded, no banner yet) for as long as the test likes.
    const slow = join(w.root, 'bin', 'bao');
    mkdirSync(dirname(slow));
    writeFileSync(
      slow,
      `#!/bin/sh\nif [ "$1" = version ]; then exec "${BIN}" "$@"; fi\nsleep 60\nexec "${BIN}" "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const { child, done } = await spawnCli(w, ['--yes', ...CONN_ARGS, '--check', 'vault', '--vault-bin', slow]);
    const { processesUnder } = await import('../support/sandbox.js');
    await waitFor(() => processesUnder(join(dir, '.sandbox')).length > 0);
    expect(readFileSync(join(dir, '.sandbox', 'state.json'), 'utf8'), 'the intent is recorded').toContain('"server"');
    child.kill('SIGHUP');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("stopped by SIGHUP during 'Start the dev server'");
    expect(processesUnder(w.root), 'the paused server was stopped').toEqual([]);
    expect(existsSync(join(dir, '.env')), 'no .env').toBe(false);
    ok(await runCli(w, ['--yes', ...CONN_ARGS, '--check', 'vault']), 'rerun');
    await assertConverged(dir, 'rerun after the SIGHUP');
    ok(await runCli(w, ['down']), 'down');
  });

  it('SIGHUP while the seed step waits on Vault: exit 130, nothing written to Vault, no .env', async () => {
    const w = ws();
    const { startManualServer, killAndWait } = await import('../support/sandbox.js');
    const { startRewritingProxy } = await import('../support/fault-proxy.js');
    const server = await startManualServer(w, BIN ?? '');
    let seedStarted = false;
    let release = () => {};
    const held = new Promise<void>((res) => {
      release = res;
    });
    // The first request of the seed step is held at the proxy: the run is inside that step until released.
    const proxy = await startRewritingProxy(
      server.url,
      () => undefined,
      async (req) => {
        if (!req.path.includes('/connections/')) return;
        seedStarted = true;
        await held;
      },
    );
    try {
      const dir = join(w.cwd, 'secrets-sandbox');
      w.env.VAULT_TOKEN = server.token;
      const { child, done } = await spawnCli(w, [
        '--yes',
        '--vault-url',
        proxy.url,
        '--seed',
        '--conn',
        'pg=postgres://u:p@db:5432/app',
        '--check',
        'vault',
      ]);
      await waitFor(() => seedStarted);
      child.kill('SIGHUP');
      const r = await done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toContain("stopped by SIGHUP during 'Seed connections and variables'");
      release();
      const res = await fetch(`${server.url}/v1/secret/data/connections/pg`, {
        headers: { 'X-Vault-Token': server.token },
      });
      expect(res.status, 'nothing was written to Vault').toBe(404);
      expect(existsSync(join(dir, '.env')), 'no .env').toBe(false);
    } finally {
      release();
      await proxy.close();
      await killAndWait(server.pid);
    }
  });

  it('a closed stdout (| head) ends output quietly and leaves the server recorded', async () => {
    const w = ws();
    w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
    const { CLI } = await import('../support/env.js');
    const piped = await import('../support/sandbox.js').then(({ runProcess }) =>
      runProcess(
        'bash',
        ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" --yes --check vault | head -c 1 >/dev/null`],
        { cwd: w.cwd, env: w.env },
      ),
    );
    expect(piped.stderr).not.toMatch(/EPIPE|Error:|at .*\.js/);
    expect(piped.code).toBe(0);
    const st = ok(await runCli(w, ['status', '--json']), 'status after the pipe');
    expect(readJson<{ running: boolean }>(st.stdout).running).toBe(true);
    ok(await runCli(w, ['down']), 'down');
  });

  it('status, down and up find the sandbox in the current dir when it holds secrets-sandbox.yaml', async () => {
    const w = ws();
    const port = await freePort();
    ok(await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`]), 'create');
    const inside = { ...w, cwd: join(w.cwd, 'secrets-sandbox') };
    ok(await runCli(inside, ['status']), 'status from inside');
    expect(ok(await runCli(inside, ['down']), 'down from inside').stdout).toContain('stopped the sandbox server');
    ok(await runCli(inside, ['up']), 'up from inside');
    expect(serversOf(inside.cwd)).toHaveLength(1);
    ok(await runCli(inside, ['down']), 'down');
  });
});

describe.skipIf(skipReason)('the wizard with every default', () => {
  it(
    'the wizard accepting every default on a taken default port: a free port, nothing claimed in the config, reruns converge',
    async (t) => {
      const { VENV_PYTHON, ROOT, CLI } = await import('../support/env.js');
      if (!existsSync(VENV_PYTHON)) t.skip('no test-tools venv python for the pty driver');
      const w = ws();
      const port = await freePort();
      w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(port);
      const held = await holdPort(port);
      try {
        const ENTER = '\r';
        const steps = [
          'Sandbox directory',
          'Listen address',
          'Root token',
          'KV mount',
          'connections_path',
          'variables_path',
          'How Airflow logs in',
          'Airflow version',
          'Connection ID=URI',
          'Variable KEY=VALUE',
          'Write the example DAG',
          'Final check',
          'Go ahead\\?',
        ].map((q) => [q, ENTER]);
        steps.push(['Sandbox ready', '']);
        const { runProcess } = await import('../support/sandbox.js');
        const r = await runProcess(VENV_PYTHON, [join(ROOT, 'test', 'support', 'pty_drive.py')], {
          input: JSON.stringify({
            cmd: [process.execPath, CLI],
            cwd: w.cwd,
            env: { ...w.env, TERM: 'xterm-256color', COLUMNS: '160', LINES: '50' },
            steps,
            timeout: 120,
          }),
          timeoutMs: scaled(150_000),
        });
        const out = JSON.parse(r.stdout) as { code: number; transcript: string; stuck_at: number | null };
        expect(out.stuck_at, out.transcript.slice(-2000)).toBeNull();
        expect(out.code, out.transcript.slice(-2000)).toBe(0);
        const dir = join(w.cwd, 'secrets-sandbox');
        const cfg = readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8');
        for (const key of ['address', 'mount', 'check', 'example_dag', 'version: "'])
          expect(cfg, key).not.toContain(key);
        expect(envOf(dir).get('VAULT_ADDR')).not.toBe(`http://127.0.0.1:${port}`);
        ok(await runCli(w, ['--yes']), 'rerun');
        ok(await runCli(w, ['down']), 'down');
        ok(await runCli(w, ['up']), 'up');
        expect(serversOf(dir)).toHaveLength(1);
        ok(await runCli(w, ['down']), 'down');
      } finally {
        held.close();
      }
    },
    scaled(200_000),
  );
});

describe.skipIf(skipReason)('a setting said again moves the sandbox', () => {
  it('a rerun with another --address stops our old server, starts on the new one, and the config says it', async () => {
    const w = ws();
    const [p1, p2] = [await freePort(), await freePort()];
    ok(await runCli(w, ['--yes', '--address', `127.0.0.1:${p1}`, ...CONN_ARGS]), 'create');
    const dir = join(w.cwd, 'secrets-sandbox');
    const r = ok(await runCli(w, ['--yes', '--address', `127.0.0.1:${p2}`]), 'move');
    expect(r.stdout).toContain(`listens on 127.0.0.1:${p1}, not 127.0.0.1:${p2}`);
    expect(await assertConverged(dir, 'moved')).toBe(`http://127.0.0.1:${p2}`);
    expect(readFileSync(join(dir, 'secrets-sandbox.yaml'), 'utf8')).toContain(`address: 127.0.0.1:${p2}`);
    expect(await canBind(p1)).toBe(true);
    // A corrupt state.json is said, not silently replaced; the rerun still converges (on the config's port).
    ok(await runCli(w, ['down']), 'down');
    writeFileSync(join(dir, '.sandbox', 'state.json'), 'not json');
    const again = ok(await runCli(w, ['--yes']), 'after corrupt state');
    expect(again.stderr).toContain('state.json is corrupt');
    await assertConverged(dir, 'after corrupt state');
    ok(await runCli(w, ['down']), 'down');
  });
});
