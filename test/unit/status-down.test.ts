/**
 * The decision tables of `status` and `down`, each row a sandbox on disk (its records as runs
 * leave them) and what the machine and the server say (injected fakes): what is reported, with
 * which exit, which process is signalled, and whether the record is kept.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { down, type DownOps } from '../../src/commands/down.js';
import { sandboxStatus, type StatusProbes } from '../../src/commands/status.js';
import { ensurePrivateDir, writePrivateFile } from '../../src/io/private.js';
import {
  openSandbox,
  readFacts,
  recordServerIntent,
  recordServerStarted,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { existingTarget, writeTargetRecord } from '../../src/target/index.js';
import { VaultError } from '../../src/vault/api.js';
import { FakeVaultServer } from '../support/fakes.js';

const TOKEN = 's.the-root-token-of-this-sandbox';
const ADDRESS = '127.0.0.1:8299';
const URL_ = `http://${ADDRESS}`;
const PID = 424242;

type Record_ = 'none' | 'intent' | 'started' | 'corrupt' | 'existing';

/** A sandbox dir as a run leaves it: no record, an intent without a pid, a started server, a corrupt state, an existing Vault. */
async function sandbox(record: Record_, opts: { token?: boolean; address?: string } = {}): Promise<Sandbox> {
  const dir = join(mkdtempSync(join(tmpdir(), 'css-status-')), 'sb');
  mkdirSync(dir);
  const fresh = await openSandbox(dir);
  const { paths } = fresh;
  ensurePrivateDir(paths.stateDir);
  const address = opts.address ?? ADDRESS;
  if (record === 'corrupt') writePrivateFile(paths.state, '{ not json');
  if (record === 'existing') writeTargetRecord(paths.target, existingTarget('https://vault.example.com:8200'));
  if (record === 'intent' || record === 'started')
    recordServerIntent(paths, 'test', {
      sandboxId: fresh.id,
      address,
      url: `http://${address}`,
      tokenSource: 'server',
    });
  if (record === 'started')
    recordServerStarted(paths, 'test', { pid: PID, url: `http://${address}`, flavour: 'OpenBao', version: '2.4.1' });
  if (opts.token) {
    ensurePrivateDir(dirname(paths.home));
    ensurePrivateDir(paths.home);
    writePrivateFile(join(paths.home, '.vault-token'), TOKEN);
  }
  return openSandbox(dir);
}

const notOurs = { ours: false, why: `pid ${PID} is not this sandbox's server (its environment lacks the sandbox id)` };

function probes(over: Partial<StatusProbes> & { server?: FakeVaultServer } = {}): StatusProbes {
  const server = over.server ?? new FakeVaultServer().mount('secret', 'kv', 2);
  return {
    running: () => undefined,
    proof: () => notOurs,
    vault: (o) => server.client(o),
    ui: async () => null,
    ...over,
  };
}

const runningHere =
  (address = ADDRESS) =>
  () => ({ pid: PID, address, url: `http://${address}` });

describe('status decision table', () => {
  it('no sandbox here: not running, and says so', async () => {
    const r = await sandboxStatus(join(tmpdir(), 'css-no-such-dir-', String(process.pid)), false, probes());
    expect(r).toMatchObject({ running: false, reason: 'no sandbox here' });
  });

  it('a corrupt state.json: not running, corrupt (never "missing"), with the way out', async () => {
    const sb = await sandbox('corrupt');
    const r = await sandboxStatus(sb.dir, false, probes());
    expect(r.running).toBe(false);
    expect(r.reason).toMatch(/state\.json is corrupt: it /);
    expect(r.fix).toMatch(/^stop any server of this sandbox yourself, remove .*state\.json, then run .* up /);
  });

  it('an existing Vault: not managed; answering is what its health says', async () => {
    const sb = await sandbox('existing');
    const up = await sandboxStatus(sb.dir, false, probes());
    expect(up).toMatchObject({ running: true, managed: false, answering: true, url: 'https://vault.example.com:8200' });
    const refusing = probes({
      vault: () => {
        throw new VaultError('GET', '/v1/sys/health', 'refused', 'connection refused: no server is listening there');
      },
    });
    const down_ = await sandboxStatus(sb.dir, false, refusing);
    expect(down_).toMatchObject({ managed: false, answering: false });
    expect(down_.fix).toMatch(/^ask whoever runs https:\/\/vault\.example\.com:8200: /);
  });

  it('no server recorded; an intent without a pid; a recorded pid that is not ours: not running, each said its way', async () => {
    expect((await sandboxStatus((await sandbox('none')).dir, false, probes())).reason).toMatch(/^no server recorded/);
    expect((await sandboxStatus((await sandbox('intent')).dir, false, probes())).reason).toBe(
      `the server a run meant to start on ${ADDRESS} is not running`,
    );
    const r = await sandboxStatus((await sandbox('started')).dir, false, probes());
    expect(r).toMatchObject({ running: false, pid: PID, url: URL_, reason: notOurs.why });
  });

  it('ours, answering, its token accepted: running, the token masked, the seeded ids listed', async () => {
    const sb = await sandbox('started', { token: true });
    const server = new FakeVaultServer().mount('secret', 'kv', 2);
    server.tokens.add(TOKEN);
    server.mounts.get('secret')?.data.set('connections/smtp_default', { conn_uri: 'smtps://u:p@h:465' });
    const r = await sandboxStatus(sb.dir, false, probes({ server, running: runningHere() }));
    expect(r).toMatchObject({
      running: true,
      answering: true,
      token_valid: true,
      url: URL_,
      connections: ['smtp_default'],
    });
    expect(r.token).toBe('s.th…(32 chars)');
    expect(r.token).not.toContain(TOKEN);
    expect((await sandboxStatus(sb.dir, true, probes({ server, running: runningHere() }))).token).toBe(TOKEN);
  });

  it('ours and answering, but its token refused (a restarted server): REFUSED, never "not answering"', async () => {
    const sb = await sandbox('started', { token: true });
    const r = await sandboxStatus(sb.dir, false, probes({ running: runningHere() }));
    expect(r).toMatchObject({ running: true, answering: true, token_valid: false });
    expect(r.reason).toBeUndefined();
  });

  it('ours but hung (health times out): not answering within the limit, up as the fix; the token is not asked about', async () => {
    const sb = await sandbox('started', { token: true });
    const hung = probes({
      running: runningHere(),
      vault: () => {
        const e = new VaultError('GET', `${URL_}/v1/sys/health`, 'timeout', 'no answer within 1500 ms');
        return { health: () => Promise.reject(e) } as never;
      },
    });
    const r = await sandboxStatus(sb.dir, false, hung);
    expect(r).toMatchObject({ running: true, answering: false, reason: 'not answering: no reply within 1.5 s' });
    expect(r.fix).toMatch(/^run .* up( \S+)? \(stops it and starts it again\)$/);
    expect(r.token_valid).toBeUndefined();
  });

  it('ours on a non-loopback address: running, but the token is not sent there', async () => {
    const sb = await sandbox('started', { token: true, address: '10.1.2.3:8200' });
    let asked = false;
    const r = await sandboxStatus(
      sb.dir,
      false,
      probes({
        running: runningHere('10.1.2.3:8200'),
        vault: (o) => {
          asked = true;
          return new FakeVaultServer().client(o);
        },
      }),
    );
    expect(r).toMatchObject({
      running: true,
      reason: 'the server listens on 10.1.2.3:8200, not loopback: the token is not sent there',
    });
    expect(asked).toBe(false);
  });

  it('ours, with no token to be found: answering, token unknown, nothing listed', async () => {
    const sb = await sandbox('started');
    const r = await sandboxStatus(sb.dir, false, probes({ running: runningHere() }));
    expect(r).toMatchObject({ running: true, answering: true });
    expect(r.token).toBeUndefined();
    expect(r.connections).toBeUndefined();
  });
});

/** Fake process table: which pids live, what they run, which stop, and which were signalled. */
function ops(table: {
  servers?: { server?: number; extra?: number[] };
  alive?: number[];
  commands?: Record<number, string>;
  stuck?: number[];
  ours?: boolean;
}): DownOps & { signalled: number[] } {
  const signalled: number[] = [];
  return {
    signalled,
    servers: () => ({
      ...(table.servers?.server !== undefined ? { server: { pid: table.servers.server } } : {}),
      extra: table.servers?.extra ?? [],
    }),
    isAlive: (pid) => (table.alive ?? []).includes(pid),
    commandLine: (pid) => table.commands?.[pid],
    proof: () => (table.ours ? { ours: true } : notOurs),
    stop: async (pid) => {
      signalled.push(pid);
      return !(table.stuck ?? []).includes(pid);
    },
  };
}

const DEV = `bao server -dev -dev-listen-address=${ADDRESS}`;
const recorded = (sb: Sandbox) => readFacts(sb.paths).facts.server;

describe('down decision table', () => {
  it('an existing Vault: nothing to stop, exit 0, nothing signalled', async () => {
    const o = ops({});
    const r = await down(await sandbox('existing'), o);
    expect(r).toMatchObject({ code: 0, stopped: false });
    expect(r.message).toMatch(/^nothing to stop: /);
    expect(o.signalled).toEqual([]);
  });

  it('a corrupt state.json: exit 1, nothing signalled (which server is ours cannot be told)', async () => {
    const o = ops({ alive: [PID], commands: { [PID]: DEV } });
    const r = await down(await sandbox('corrupt'), o);
    expect(r.code).toBe(1);
    expect(r.fix).toMatch(/^stop the server yourself/);
    expect(o.signalled).toEqual([]);
  });

  it('ours running: stopped, exit 0, the record cleared', async () => {
    const sb = await sandbox('started');
    const o = ops({ servers: { server: PID } });
    expect(await down(sb, o)).toMatchObject({
      code: 0,
      stopped: true,
      pid: PID,
      message: `stopped the sandbox server (pid ${PID}) on ${URL_}`,
    });
    expect(o.signalled).toEqual([PID]);
    expect(recorded(sb)).toBeUndefined();
  });

  it('ours and another of this sandbox (a cut run left it): both stopped', async () => {
    const o = ops({ servers: { server: PID, extra: [PID + 1] } });
    const r = await down(await sandbox('started'), o);
    expect(r.message).toBe(`stopped the sandbox servers (pids ${PID}, ${PID + 1})`);
    expect(o.signalled).toEqual([PID, PID + 1]);
  });

  it('ours but it will not stop: exit 1, the record kept, the kill named', async () => {
    const sb = await sandbox('started');
    const r = await down(sb, ops({ servers: { server: PID }, stuck: [PID] }));
    expect(r).toMatchObject({ code: 1, stopped: false, fix: `kill -9 ${PID} as its owner; the record is kept` });
    expect(recorded(sb)?.pid).toBe(PID);
  });

  it('no record: nothing to stop, exit 0', async () => {
    expect(await down(await sandbox('none'), ops({}))).toMatchObject({
      code: 0,
      message: 'no sandbox server recorded here; nothing to stop',
    });
  });

  it('a recorded pid that is gone: its record cleared, exit 0', async () => {
    const sb = await sandbox('started');
    const r = await down(sb, ops({}));
    expect(r).toMatchObject({
      code: 0,
      message: `the sandbox server (pid ${PID}) was not running; cleared its record`,
    });
    expect(recorded(sb)).toBeUndefined();
  });

  it('a recorded pid recycled by another program: left alone, its record cleared, exit 0', async () => {
    const sb = await sandbox('started');
    const o = ops({ alive: [PID], commands: { [PID]: '/usr/bin/python3 -m http.server' } });
    const r = await down(sb, o);
    expect(r.code).toBe(0);
    expect(r.message).toMatch(/now belongs to another process; left it alone and cleared the record$/);
    expect(o.signalled).toEqual([]);
    expect(recorded(sb)).toBeUndefined();
  });

  it("a live dev server on the record that is not ours (another sandbox's, another user's): never signalled, exit 1, record kept", async () => {
    const sb = await sandbox('started');
    const o = ops({ alive: [PID], commands: { [PID]: DEV } });
    const r = await down(sb, o);
    expect(r).toMatchObject({ code: 1, stopped: false, message: `did not stop pid ${PID}: ${notOurs.why}` });
    expect(o.signalled).toEqual([]);
    expect(recorded(sb)?.pid).toBe(PID);
  });

  it('an intent with no pid: its record cleared, exit 0', async () => {
    const sb = await sandbox('intent');
    expect((await down(sb, ops({}))).message).toBe(
      'the server a run meant to start was not running; cleared its record',
    );
    expect(recorded(sb)).toBeUndefined();
  });
});
