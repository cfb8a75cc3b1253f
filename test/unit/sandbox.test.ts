/**
 * The sandbox model (src/sandbox): paths, config resolution, the facts in state.json (missing,
 * unreadable, corrupt, copied, moved, the flat layout of earlier versions), the server record and
 * the seeded set, identity (which processes are this sandbox's servers), and the lock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FileError, StepError, UsageError, writeFailure } from '../../src/errors.js';
import { acquireLock, holderIsLiveRun, lockText } from '../../src/lock.js';
import {
  clearServer,
  findSandboxDir,
  openSandbox,
  readFacts,
  recordSeeded,
  sandboxEntries,
  recordServerIntent,
  recordServerStarted,
  resolveConfigFile,
  runningServers,
  type SandboxPaths,
  sandboxLayout,
  serversOf,
  writeFacts,
} from '../../src/sandbox/index.js';
import { findServers, SANDBOX_ID_ENV } from '../../src/vault/identity.js';
import { processCommandLine } from '../../src/vault/server.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'css-unit-'));

function fresh(): SandboxPaths {
  const dir = join(tmp(), 'sb');
  mkdirSync(join(dir, '.sandbox'), { recursive: true, mode: 0o700 });
  return sandboxLayout(dir);
}

describe('paths: one layout', () => {
  it('every path lies in the sandbox dir; the DAG folder and policy.hcl follow the config', () => {
    const p = sandboxLayout('/s/b');
    for (const [k, v] of Object.entries(p)) expect(v.startsWith('/s/b'), k).toBe(true);
    expect(p.dag).toBe('/s/b/dags/example_secrets_dag.py');
    expect(p.venvAirflow).toBe('/s/b/.venv/bin/airflow');
    expect(p.policy).toBe('/s/b/policy.hcl');
    const q = sandboxLayout('/s/b', { config: '/team/cfg.yaml', dagsDir: 'flows' });
    expect(q.dag).toBe('/s/b/flows/example_secrets_dag.py');
    expect(q.policy).toBe('/team/policy.hcl');
    expect(sandboxLayout('/s/b', { dagsDir: '/abs/dags' }).dagsDir).toBe('/abs/dags');
  });

  it('the list of entries names every path of the layout once, with its kind, secrecy and owner', () => {
    const p = sandboxLayout('/s/b');
    const entries = sandboxEntries(p);
    expect(entries.map((e) => e.key).sort()).toEqual(Object.keys(p).sort());
    for (const e of entries) expect(e.path).toBe(p[e.key]);
    const byKey = new Map(entries.map((e) => [e.key, e]));
    // What the README says of each: .env and the banner hold the token, .sandbox is the tool's own.
    expect(byKey.get('env')).toMatchObject({ kind: 'file', secret: true, owner: 'user' });
    expect(byKey.get('serverOut')).toMatchObject({ kind: 'file', secret: true, owner: 'ours' });
    expect(byKey.get('stateDir')).toMatchObject({ kind: 'dir', owner: 'ours' });
    expect(byKey.get('dagsDir')).toMatchObject({ kind: 'dir', owner: 'user' });
    for (const e of entries) expect(e.owner === 'ours', e.key).toBe(e.path.startsWith('/s/b/.sandbox'));
  });

  it('which sandbox a command means: the dir given, else the cwd when it holds secrets-sandbox.yaml, else ./secrets-sandbox', () => {
    const cwd = tmp();
    expect(findSandboxDir('x', cwd)).toBe(join(cwd, 'x'));
    expect(findSandboxDir(undefined, cwd)).toBe(join(cwd, 'secrets-sandbox'));
    writeFileSync(join(cwd, 'secrets-sandbox.yaml'), 'version: 1\n');
    expect(findSandboxDir(undefined, cwd)).toBe(cwd);
  });

  it('openSandbox reads the DAG folder from airflow.dags_dir of the config, not a fixed <dir>/dags', async () => {
    const p = fresh();
    writeFileSync(p.config, 'airflow:\n  dags_dir: my-dags\n');
    const sb = await openSandbox(p.dir);
    expect(sb.paths.dagsDir).toBe(join(p.dir, 'my-dags'));
    expect(sb.exists).toBe(true);
  });
});

describe('the config file, resolved once', () => {
  it('--config, else the one the state names (while it exists), else <dir>/secrets-sandbox.yaml', () => {
    const p = fresh();
    const facts = { sandboxId: 'x', dir: p.dir };
    expect(resolveConfigFile(p.dir, facts, undefined, '/cwd')).toMatchObject({ file: p.config, source: 'default' });
    expect(resolveConfigFile(p.dir, facts, 'c.yaml', '/cwd')).toMatchObject({
      file: '/cwd/c.yaml',
      source: '--config',
      label: 'c.yaml',
    });
    const team = join(p.dir, '..', 'team.yaml');
    const named = { ...facts, configFile: team };
    expect(resolveConfigFile(p.dir, named, undefined).source).toBe('default'); // not there: not used
    writeFileSync(team, 'vault: {}\n');
    expect(resolveConfigFile(p.dir, named, undefined)).toMatchObject({ file: team, source: 'state' });
    expect(resolveConfigFile(p.dir, named, 'other.yaml').source).toBe('--config');
  });

  it('a config inside the sandbox is recorded relative to it, so a renamed dir reads its own', async () => {
    const p = fresh();
    writeFileSync(join(p.dir, 'mine.yaml'), 'vault:\n  mount: kv\n');
    writeFacts(p, { sandboxId: 'id1', dir: p.dir, configFile: join(p.dir, 'mine.yaml') }, 'test');
    expect(JSON.parse(readFileSync(p.state, 'utf8')).configFile).toBe('mine.yaml');
    const moved = join(p.dir, '..', 'renamed');
    renameSync(p.dir, moved);
    const sb = await openSandbox(moved);
    expect(sb.config).toMatchObject({ file: join(moved, 'mine.yaml'), source: 'state' });
    expect(sb.config.parsed?.vault?.mount).toBe('kv');
  });

  it('a config that does not parse is kept as the error, for the command to report or throw', async () => {
    const p = fresh();
    writeFileSync(p.config, 'vault: [\n');
    const sb = await openSandbox(p.dir);
    expect(sb.config.error).toBeInstanceOf(UsageError);
    expect(sb.config.parsed).toBeUndefined();
  });
});

describe('state.json facts', () => {
  it('missing and corrupt are told apart; a state that cannot be read safely is refused (exit 2), never "corrupt"', () => {
    const p = fresh();
    expect(readFacts(p).status).toBe('missing');
    writeFileSync(p.state, '{"server": {"pid": ');
    expect(readFacts(p)).toMatchObject({ status: 'corrupt', error: 'is not JSON' });
    writeFileSync(p.state, '[1]');
    expect(readFacts(p).status).toBe('corrupt');
    const q = fresh();
    mkdirSync(q.state); // not a file
    expect(() => readFacts(q)).toThrow(FileError);
  });

  it('copied: the dir it was recorded for still holds the same sandbox, so id, server and seeded set are not ours', () => {
    const a = fresh();
    writeFacts(
      a,
      {
        sandboxId: 'abc',
        dir: a.dir,
        bin: '/x/bao',
        server: { pid: 42, address: '127.0.0.1:9', url: 'http://127.0.0.1:9', startedAt: '', tokenSource: 'server' },
        seeded: { connections: ['c'], variables: [] },
      },
      'test',
    );
    const copy = join(a.dir, '..', 'copy');
    cpSync(a.dir, copy, { recursive: true });
    const c = readFacts(sandboxLayout(copy));
    expect(c.status).toBe('copied');
    expect(c.facts.sandboxId).not.toBe('abc');
    expect(c.facts.server).toBeUndefined();
    expect(c.facts.seeded).toBeUndefined();
    expect(c.facts.bin).toBe('/x/bao');
  });

  it('moved: the dir it was recorded for no longer holds it, so the id, the server and the seeded set stay', () => {
    const a = fresh();
    const server = {
      pid: 42,
      address: '127.0.0.1:9',
      url: 'http://127.0.0.1:9',
      startedAt: 't',
      tokenSource: 'server',
    };
    writeFacts(a, { sandboxId: 'abc', dir: a.dir, server: server as never }, 'test');
    const moved = join(a.dir, '..', 'moved');
    renameSync(a.dir, moved);
    const m = readFacts(sandboxLayout(moved));
    expect(m.status).toBe('moved');
    expect(m.facts).toMatchObject({ sandboxId: 'abc', dir: moved, server });
  });

  it('reads the flat layout of earlier versions, and clearServer keeps the other facts', () => {
    const p = fresh();
    writeFileSync(
      p.state,
      JSON.stringify({
        dir: p.dir,
        pid: 7,
        address: '[::1]:8311',
        url: 'http://[::1]:8311',
        flavour: 'OpenBao',
        version: '2.1.0',
        bin: '/b/bao',
        startedAt: 't',
        tokenSource: 'user',
      }),
    );
    expect(readFacts(p).facts.server).toMatchObject({ pid: 7, address: '[::1]:8311', tokenSource: 'user' });
    clearServer(p, 'test');
    const f = readFacts(p);
    expect(f.status).toBe('ok');
    expect(f.facts).toMatchObject({ address: '[::1]:8311', bin: '/b/bao', version: '2.1.0' });
    expect(f.facts.server).toBeUndefined();
  });

  it('the intent to start is a valid record before any pid; the pid and the binary join it after the spawn', () => {
    const p = fresh();
    const s = { sandboxId: 'id9', address: '127.0.0.1:8300', url: 'http://127.0.0.1:8300', tokenSource: 'server' };
    recordServerIntent(p, 'start', s as never);
    const intent = readFacts(p);
    expect(intent.status).toBe('ok');
    expect(intent.facts.sandboxId).toBe('id9');
    expect(intent.facts.server).toMatchObject({ address: '127.0.0.1:8300', home: p.home });
    expect(intent.facts.server?.pid).toBeUndefined();
    recordServerStarted(p, 'start', { pid: 1234, url: s.url, bin: '/b/bao', flavour: 'OpenBao', version: '2.7.2' });
    expect(readFacts(p).facts).toMatchObject({
      sandboxId: 'id9',
      bin: '/b/bao',
      server: { pid: 1234, address: '127.0.0.1:8300' },
    });
  });

  it('a pid whose intent is gone (the dir moved under the run) is not recorded: no new sandbox naming a server not its own', () => {
    const p = fresh();
    const s = { sandboxId: 'id10', address: '127.0.0.1:8301', url: 'http://127.0.0.1:8301', tokenSource: 'server' };
    recordServerIntent(p, 'start', s as never);
    renameSync(p.dir, `${p.dir}-moved`);
    mkdirSync(p.dir);
    expect(recordServerStarted(p, 'start', { pid: 4321, url: s.url })).toBe(false);
    expect(existsSync(p.state)).toBe(false);
  });

  it('the seeded set is a fact: recorded, read back through openSandbox, replaced by the next seeding', async () => {
    const p = fresh();
    recordSeeded(p, 'seed', { connections: ['smtp_default', 'pg'], variables: ['v1'] });
    expect((await openSandbox(p.dir)).seeded).toEqual({ connections: ['smtp_default', 'pg'], variables: ['v1'] });
    recordSeeded(p, 'seed', { connections: ['smtp_default'], variables: [] });
    expect((await openSandbox(p.dir)).seeded).toEqual({ connections: ['smtp_default'], variables: [] });
  });

  it('a record that cannot be written is the step error, naming the file and the way out', () => {
    const p = fresh();
    mkdirSync(p.state); // a directory in the way
    let caught: unknown;
    try {
      writeFacts(p, { sandboxId: 'x', dir: p.dir }, 'start');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UsageError); // an entry of the wrong type in .sandbox is refused, not written through
    const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const e = writeFailure('start', '/s/.sandbox/state.json', full);
    expect(e).toBeInstanceOf(StepError);
    expect(e).toMatchObject({ step: 'start', kind: 'io', code: 'ENOSPC', fix: 'free some space, then rerun' });
    expect(e.message).toBe('cannot write /s/.sandbox/state.json: the disk is full (no space or no inodes left)');
  });
});

describe('identity: which processes are this sandbox servers', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  /**
   * A process that looks like a dev server: `server -dev` in its command line, the id in its env, `home` as cwd.
   * Node, not `bash -c 'sleep ...'`: bash forks for sleep, and the fork carries bash's command line until it execs,
   * so a scan at that instant would see a third "server".
   */
  function fakeServer(home: string, id: string, address = '127.0.0.1:9'): ChildProcess {
    mkdirSync(home, { recursive: true });
    const argv = ['-e', 'setTimeout(() => {}, 30000)', 'bao', 'server', '-dev', `-dev-listen-address=${address}`];
    const c = spawn(process.execPath, argv, {
      cwd: home,
      env: { ...process.env, [SANDBOX_ID_ENV]: id },
      stdio: 'ignore',
    });
    children.push(c);
    return c;
  }

  const until = async (f: () => boolean) => {
    for (let i = 0; i < 100 && !f(); i++) await sleep(20);
  };

  it.skipIf(!existsSync('/proc/self/environ'))(
    'found by the id in its environment and the HOME as its cwd, also after the sandbox dir is renamed',
    async () => {
      const p = fresh();
      const ours = fakeServer(p.home, 'id-ours');
      const other = fakeServer(p.home, 'id-other');
      const elsewhere = fakeServer(join(p.dir, '..', 'elsewhere'), 'id-ours');
      await until(() => findServers({ sandboxId: 'id-ours', home: p.home }).length > 0);
      expect(findServers({ sandboxId: 'id-ours', home: p.home })).toEqual([ours.pid]);
      expect(other.pid).toBeDefined();
      expect(elsewhere.pid).toBeDefined();
      const renamed = join(p.dir, '..', 'renamed');
      renameSync(p.dir, renamed);
      const moved = sandboxLayout(renamed);
      expect(findServers({ sandboxId: 'id-ours', home: moved.home })).toEqual([ours.pid]);
      expect(findServers({ sandboxId: 'id-ours', home: p.home })).toEqual([]);
    },
  );

  it.skipIf(!existsSync('/proc/self/environ'))(
    'a run cut before the pid was recorded: the intent alone finds the server, and it is the one kept',
    async () => {
      const p = fresh();
      recordServerIntent(p, 'start', {
        sandboxId: 'id-cut',
        address: '127.0.0.1:9',
        url: 'http://127.0.0.1:9',
        tokenSource: 'server',
      });
      const c = fakeServer(p.home, 'id-cut');
      const second = fakeServer(p.home, 'id-cut', '127.0.0.1:11');
      const sb = await openSandbox(p.dir);
      await until(() => serversOf(sb).length === 2);
      expect(serversOf(sb)).toEqual([c.pid, second.pid].sort((a, b) => (a ?? 0) - (b ?? 0)));
      const r = runningServers(sb);
      expect(r.server).toEqual({ pid: c.pid, address: '127.0.0.1:9', url: 'http://127.0.0.1:9' });
      expect(r.extra).toEqual([second.pid]);
    },
  );
});

describe('the lock', () => {
  it('a dead holder is taken over; a live run of this tool is named after the wait; release removes only our own', async () => {
    const p = fresh();
    writeFileSync(p.lock, '999999999\n');
    const lock = await acquireLock(p, 0);
    expect(readFileSync(p.lock, 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
    expect(existsSync(p.lock)).toBe(false);
    // The parent (vitest) written as a holder with its own command line: a live run.
    writeFileSync(p.lock, lockText(process.ppid, processCommandLine(process.ppid)));
    const held = acquireLock(p, 200);
    await expect(held).rejects.toThrow(`another run (pid ${process.ppid}) is changing this sandbox`);
    await expect(held).rejects.toMatchObject({ kind: 'lock-held' });
    expect(readFileSync(p.lock, 'utf8').split('\n')[0]).toBe(String(process.ppid));
  });

  it('a live process that is not this tool (pid 1, a recycled pid) holds no lock: it is taken over', async () => {
    const p = fresh();
    writeFileSync(p.lock, '1\n');
    const lock = await acquireLock(p, 0);
    expect(readFileSync(p.lock, 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });

  it('whose lock counts: the command line it recorded, else one that names this tool', () => {
    const cmd = (line: string | null) => () => line;
    const live = process.ppid;
    const mine = lockText(live, 'node /x/dist/cli.js up').split('\n')[1] as string;
    expect(holderIsLiveRun({ pid: live, cmdHash: mine }, cmd('node /x/dist/cli.js up'))).toBe(true);
    expect(holderIsLiveRun({ pid: live, cmdHash: mine }, cmd('sleep 30'))).toBe(false);
    expect(holderIsLiveRun({ pid: live }, cmd('node /usr/lib/node_modules/create-secrets-sandbox/dist/cli.js'))).toBe(
      true,
    );
    expect(holderIsLiveRun({ pid: live }, cmd('/sbin/init splash'))).toBe(false);
    expect(holderIsLiveRun({ pid: live }, cmd(null))).toBe(true); // cannot tell: never take a live run's lock
    expect(holderIsLiveRun({ pid: 999999999, cmdHash: mine }, cmd('node /x/dist/cli.js up'))).toBe(false);
  });

  it('a lock file that cannot be made is the lock step error with the way out, not an unexpected error', async () => {
    const p = fresh();
    const blocked = { stateDir: join(p.dir, 'file'), lock: join(p.dir, 'file', 'lock') };
    writeFileSync(blocked.stateDir, 'x');
    await expect(acquireLock(blocked, 0)).rejects.toMatchObject({ step: 'lock', kind: 'io' });
  });
});
