/**
 * Issue 21's defects of the safe file layer and the trust boundary, one named test each, through
 * the built CLI on the real server: FIFOs where the tool reads (never a hang, one line, exit 2), a
 * device as a token file, symlinks the user made kept as links, root among another user's files
 * (a real second uid: 65534 via setpriv) running and sending nothing, and a malformed import that
 * leaks nothing of its text.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN as CLI_BIN, missing, scaled, serverBinary } from '../support/env.js';
import { IS_ROOT, NOBODY } from '../support/hazards.js';
import {
  cleanup,
  fakeBinary,
  freePort,
  killAndWait,
  runCli,
  serversUnder,
  startManualServer,
  type Run,
  workspace,
  workspaces,
  type Workspace,
} from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);
/** A refusal up front takes a Node start and a few stat calls: far under this, even on a loaded machine. */
const PROMPT = scaled(15_000);

function oneLine(r: Run): string {
  const lines = (r.stdout + r.stderr).trim().split('\n');
  expect(lines, r.stdout + r.stderr).toHaveLength(1);
  return lines[0] ?? '';
}

async function timed(run: Promise<Run>): Promise<Run & { ms: number }> {
  const t0 = Date.now();
  const r = await run;
  return { ...r, ms: Date.now() - t0 };
}

describe.skipIf(skipReason)('a FIFO where the tool reads: one line, exit 2, no hang', () => {
  let w: Workspace;
  let dir: string;
  beforeAll(async () => {
    w = workspace(BIN); // shared by the tests below: removed in afterAll, not after each test
    dir = join(w.cwd, 'secrets-sandbox');
    const r = await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`, '--check', 'vault']);
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(w, ['down'])).code).toBe(0);
  });
  afterAll(async () => {
    await runCli(w, ['down']);
    expect(cleanup(w)).toEqual([]);
  });

  const HAZARDS: [string, string][] = [
    ['.env', '.env'],
    ['docker.env', 'docker.env'],
    ['the DAG path', join('dags', 'example_secrets_dag.py')],
    ['.gitignore', '.gitignore'],
  ];
  for (const [name, rel] of HAZARDS) {
    it(`a FIFO at ${name} makes up, status and doctor end at once with exit 2 naming it`, async () => {
      const path = join(dir, rel);
      renameSync(path, `${path}.saved`);
      execFileSync('mkfifo', [path]);
      try {
        for (const cmd of ['up', 'status', 'doctor']) {
          const r = await timed(runCli(w, [cmd], { timeoutMs: PROMPT * 2 }));
          expect(r.code, `${cmd}: ${r.stdout}${r.stderr}`).toBe(2);
          expect(r.ms, cmd).toBeLessThan(PROMPT);
          const line = oneLine(r);
          expect(line).toContain(path);
          expect(line).toContain('FIFO');
        }
        expect(serversUnder(w.root)).toEqual([]);
      } finally {
        rmSync(path);
        renameSync(`${path}.saved`, path);
      }
    });
  }

  it('the sandbox works again once the FIFOs are gone', async () => {
    const r = await runCli(w, ['up']);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe.skipIf(skipReason)('token files that are not files', () => {
  it('a FIFO as --token-file is refused at once, exit 2', async () => {
    const w = ws();
    const fifo = join(w.root, 'token');
    execFileSync('mkfifo', [fifo]);
    const r = await timed(
      runCli(w, ['--yes', '--vault-url', 'http://127.0.0.1:9', '--token-file', fifo], { timeoutMs: PROMPT * 2 }),
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.ms).toBeLessThan(PROMPT);
    expect(oneLine(r)).toMatch(new RegExp(`'${fifo}' is a FIFO`));
  });

  it('/dev/zero as --token-file is refused at once, exit 2, no allocation failure', async () => {
    const w = ws();
    const r = await timed(
      runCli(w, ['--yes', '--vault-url', 'http://127.0.0.1:9', '--token-file', '/dev/zero'], {
        timeoutMs: PROMPT * 2,
      }),
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.ms).toBeLessThan(PROMPT);
    expect(oneLine(r)).toContain("'/dev/zero' is a character device");
  });

  it('a FIFO as the kwargs token_path: doctor ends at once, naming it, and never blocks', async () => {
    const w = ws();
    const fifo = join(w.root, 'token');
    execFileSync('mkfifo', [fifo]);
    // A server that answers, so doctor goes on to the token the kwargs name.
    const server = await startManualServer(w, BIN as string);
    const port = Number(new URL(server.url).port);
    const r = await timed(
      runCli(w, ['doctor'], {
        timeoutMs: PROMPT * 2,
        env: {
          AIRFLOW__SECRETS__BACKEND: 'airflow.providers.hashicorp.secrets.vault.VaultBackend',
          AIRFLOW__SECRETS__BACKEND_KWARGS: JSON.stringify({ url: `http://127.0.0.1:${port}`, token_path: fifo }),
        },
      }),
    );
    expect(r.ms).toBeLessThan(PROMPT);
    // doctor reports on the set-up: a failed check (exit 1) naming the FIFO, not a crash.
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`token_path ${fifo} is a FIFO`);
    await killAndWait(server.pid);
  });
});

describe.skipIf(skipReason)("symlinks the user made stay links; the edit goes to the link's target", () => {
  it('a symlinked secrets-sandbox.yaml keeps the link, its target gets the edit, and up accepts it', async () => {
    const w = ws();
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(dir);
    // Outside the sandbox: the user keeps the config with their project, linked in before the first run.
    const target = join(w.root, 'team-settings.yaml');
    writeFileSync(target, '# ours\nconnections:\n  first: postgres://u:p@h/db\n', { mode: 0o600 });
    symlinkSync(target, join(dir, 'secrets-sandbox.yaml'));
    const r = await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`, '--conn', 'second=mysql://h']);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(dir, 'secrets-sandbox.yaml')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'secrets-sandbox.yaml'))).toBe(target);
    const text = readFileSync(target, 'utf8');
    expect(text).toContain('# ours');
    expect(text).toContain('second: mysql://h');
    // Recorded at creation: the next runs accept the link out of the sandbox.
    expect((await runCli(w, ['up'])).code).toBe(0);
    expect((await runCli(w, ['down'])).code).toBe(0);
  });

  it('--config link.yaml keeps the link, and the file it names gets the edit', async () => {
    const w = ws();
    writeFileSync(join(w.cwd, 'real.yaml'), 'connections:\n  first: postgres://u:p@h/db\n', { mode: 0o600 });
    symlinkSync('real.yaml', join(w.cwd, 'link.yaml'));
    const r = await runCli(w, [
      '--yes',
      '--config',
      'link.yaml',
      '--address',
      `127.0.0.1:${await freePort()}`,
      '--conn',
      'second=mysql://h',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readlinkSync(join(w.cwd, 'link.yaml'))).toBe('real.yaml');
    expect(readFileSync(join(w.cwd, 'real.yaml'), 'utf8')).toContain('second: mysql://h');
    expect((await runCli(w, ['down'])).code).toBe(0);
  });

  it('a link out of the sandbox that appears after it was created is refused, naming where it points', async () => {
    const w = ws();
    const dir = join(w.cwd, 'secrets-sandbox');
    const r = await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`, '--check', 'vault']);
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(w, ['down'])).code).toBe(0);
    const elsewhere = join(w.root, 'elsewhere');
    mkdirSync(elsewhere);
    rmSync(join(dir, 'dags'), { recursive: true });
    symlinkSync(elsewhere, join(dir, 'dags'));
    const u = await runCli(w, ['up']);
    expect(u.code).toBe(2);
    expect(oneLine(u)).toContain(`the DAG folder '${join(dir, 'dags')}' links to '${elsewhere}', outside the sandbox`);
    // The user's opt-in for the place it points into.
    const optIn = { env: { SECRETS_SANDBOX_TRUSTED_DIRS: elsewhere } };
    const ok = await runCli(w, ['up'], optIn);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await runCli(w, ['down'], optIn)).code).toBe(0);
  });
});

/** Runs `script` as uid 65534 (no groups), in `cwd`. */
function asNobody(cwd: string, script: string): void {
  execFileSync(
    'setpriv',
    ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', 'sh', '-euc', script],
    { cwd, env: { PATH: '/usr/bin:/bin' } },
  );
}

/** A loopback listener that records every connection it gets (it answers none). */
function listener(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((s) => {
    hits++;
    s.destroy();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0, hits: () => hits });
    }),
  );
}

describe.skipIf(skipReason || !IS_ROOT)(
  'root in a world-writable dir where another user planted a sandbox: nothing run, nothing sent',
  () => {
    let w: Workspace;
    let shared: string;
    let planted: string;
    let marker: string;
    let trap: Awaited<ReturnType<typeof listener>>;
    beforeAll(async () => {
      w = workspace(BIN);
      chmodSync(w.root, 0o755);
      shared = join(w.root, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o1777); // like /tmp
      planted = join(shared, 'secrets-sandbox');
      marker = join(shared, 'ran-as-root');
      trap = await listener();
      const evil = `#!/bin/sh\ntouch ${marker}\n`;
      asNobody(
        shared,
        [
          'mkdir -p secrets-sandbox/.venv/bin secrets-sandbox/.sandbox',
          'cd secrets-sandbox',
          `printf '%s' '${evil}' > server.bin && chmod 755 server.bin`,
          `printf '%s' '${evil}' > python && chmod 755 python`,
          `printf '#!${planted}/python\\n' > .venv/bin/airflow && chmod 755 .venv/bin/airflow`,
          `printf 'server:\\n  bin: ./server.bin\\nvault:\\n  url: http://127.0.0.1:${trap.port}\\n' > secrets-sandbox.yaml`,
          `printf 'VAULT_ADDR=http://127.0.0.1:${trap.port}\\n' > .env`,
          'ln -s /root dags',
        ].join('\n'),
      );
    });
    afterAll(() => {
      trap?.server.close();
      expect(cleanup(w)).toEqual([]);
    });

    const env = { VAULT_TOKEN: 'root-token-that-must-stay-home', VAULT_ADDR: undefined };
    const cases: [string, string[], string][] = [
      ['create', ['--yes'], 'shared'],
      ['create in the planted dir', ['--yes'], 'planted'],
      ['up', ['up'], 'shared'],
      ['doctor', ['doctor'], 'shared'],
      ['doctor in the planted dir', ['doctor'], 'planted'],
      ['doctor --fix', ['doctor', '--fix'], 'shared'],
      ['status', ['status'], 'shared'],
      ['down', ['down'], 'shared'],
    ];
    for (const [name, args, where] of cases) {
      it(`${name} refuses with exit 2 naming the planted path and its owner`, async () => {
        const cwd = where === 'shared' ? shared : planted;
        const r = await runCli({ ...w, cwd }, args, { env, timeoutMs: PROMPT * 2 });
        expect(r.code, r.stdout + r.stderr).toBe(2);
        const line = oneLine(r);
        expect(line).toContain(planted);
        expect(line).toMatch(new RegExp(`owned by \\S+ \\(uid ${NOBODY}\\), not by you`));
        expect(line).not.toContain('root-token-that');
        expect(existsSync(marker), 'a planted program ran').toBe(false);
        expect(trap.hits(), 'something connected to the planted vault.url').toBe(0);
        expect(serversUnder(w.root)).toEqual([]);
      });
    }

    it('the opt-in for a dir the user means to share lets it through (as git safe.directory does)', async () => {
      const r = await runCli({ ...w, cwd: shared }, ['status'], {
        env: { ...env, SECRETS_SANDBOX_TRUSTED_DIRS: planted },
        timeoutMs: PROMPT * 2,
      });
      expect(r.stdout + r.stderr).not.toContain('not by you');
      expect(r.code, r.stdout + r.stderr).not.toBe(2);
      expect(trap.hits()).toBe(0);
    });
  },
);

describe.skipIf(skipReason || !IS_ROOT)("another user's view of root's sandbox", () => {
  it("another user running status on root's sandbox is told its state cannot be read, not that it is corrupt", async () => {
    const w = ws();
    chmodSync(w.root, 0o755);
    chmodSync(w.cwd, 0o755);
    const r = await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`, '--check', 'vault']);
    expect(r.code, r.stderr).toBe(0);
    try {
      const dir = join(w.cwd, 'secrets-sandbox');
      const s = await new Promise<Run>((resolve) => {
        const child = spawn(
          'setpriv',
          ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, CLI_BIN, 'status'],
          { cwd: w.cwd, env: { PATH: process.env.PATH, HOME: '/nonexistent', NO_COLOR: '1' } },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      });
      expect(s.code, s.stdout + s.stderr).toBe(2);
      const line = oneLine(s);
      expect(line).toContain(join(dir, '.sandbox'));
      expect(line).toContain('cannot be read (EACCES)');
      expect(line).toContain('run this as its owner, root (uid 0)');
      expect(line).not.toMatch(/corrupt/);
    } finally {
      expect((await runCli(w, ['down'])).code).toBe(0);
    }
  });
});

describe.skipIf(skipReason)('a blocked CLI stays interruptible', () => {
  it('a run waiting on the lock of another run ends on SIGINT and on SIGTERM', async () => {
    const w = ws({ SECRETS_SANDBOX_START_TIMEOUT: '120', SECRETS_SANDBOX_LOCK_WAIT: '120' });
    // The first run holds the lock while its server never prints a banner.
    const hang = fakeBinary(w.root, 'vault', 'sleep 300');
    const first = spawn(CLI_BIN, ['--yes', '--vault-bin', hang, '--address', `127.0.0.1:${await freePort()}`], {
      cwd: w.cwd,
      env: w.env,
      stdio: 'ignore',
    });
    try {
      const lock = join(w.cwd, 'secrets-sandbox', '.sandbox', 'lock');
      for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(lock)).toBe(true);
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        const second = spawn(CLI_BIN, ['--yes', '--vault-bin', hang], {
          cwd: w.cwd,
          env: w.env,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let said = '';
        second.stderr?.on('data', (d) => (said += d));
        for (let i = 0; i < 200 && !said.includes('waiting for another run'); i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(said).toContain('waiting for another run');
        const t0 = Date.now();
        second.kill(sig);
        const ended = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
          second.on('close', (code, signal) => resolve({ code, signal })),
        );
        expect(Date.now() - t0, sig).toBeLessThan(PROMPT);
        expect(ended.code === 130 || ended.code === 143 || ended.signal === sig, JSON.stringify(ended)).toBe(true);
      }
    } finally {
      first.kill('SIGINT');
      await new Promise((r) => first.on('close', r));
    }
  });
});

describe.skipIf(skipReason)('a malformed import leaks nothing of its text', () => {
  const PASSWORD = 'Imp0rt-S3cret-Pw';
  for (const json of [false, true]) {
    it(`a malformed --import JSON names file, line and column, never the password${json ? ' (--json)' : ''}`, async () => {
      const w = ws();
      const file = join(w.root, 'conns.json');
      writeFileSync(file, `{\n  "pg": {"conn_type": "postgres", "password": "${PASSWORD}" "host": "db"}\n}\n`);
      const r = await runCli(w, ['--yes', '--import', file, ...(json ? ['--json'] : [])]);
      expect(r.code).toBe(2);
      const out = r.stdout + r.stderr;
      expect(out).toContain(`${file}:2:`);
      expect(out).toContain('not valid JSON');
      for (let k = 4; k <= PASSWORD.length; k++)
        for (let at = 0; at + k <= PASSWORD.length; at += k) expect(out).not.toContain(PASSWORD.slice(at, at + k));
      expect(serversUnder(w.root)).toEqual([]);
    });
  }
});
