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
import { missing, serverBinary } from '../support/env.js';
import { canBind, freePort, holdPort, readJson, runCli, serversUnder, workspaces, type Run, type Workspace } from '../support/sandbox.js';

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

function envOf(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(dir, '.env'), 'utf8').split('\n')) {
    const mm = line.match(/^([A-Z_]+)='(.*)'$/);
    if (mm) m.set(mm[1]!, mm[2]!.replace(/'\\''/g, "'"));
  }
  return m;
}

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
  for (const s of serversOf(dir)) process.kill(s.pid, 'SIGKILL');
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
  { name: 'IPv6 loopback [::1]', args: (port) => ['--address', `[::1]:${port}`], skip: async () => ((await canBind(0, '::1')) ? undefined : 'no IPv6 loopback on this machine') },
  { name: 'binary only on the first run\'s PATH', laterEnv: { PATH: BARE_PATH } },
  { name: '--config FILE', args: () => ['--config', 'conf/sb.yaml'], setup: async (w) => {
    mkdirSync(join(w.cwd, 'conf'));
    writeFileSync(join(w.cwd, 'conf', 'sb.yaml'), '# team settings: keep this comment\nversion: 1\n');
  } },
  { name: 'a copied sandbox dir', copied: true },
  { name: 'two runs at once', twice: true },
];

type Op = { name: string; run: (cli: (args: string[]) => Promise<Run>, dir: string, base: string[]) => Promise<void> };

const OPS: Op[] = [
  { name: 'create --yes', run: async (cli, dir, base) => void ok(await cli([dir, '--yes', ...base, ...CONN_ARGS]), 'create') },
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
];

describe.skipIf(skipReason)('the rerun matrix: every cell converges', () => {
  for (const c of CONDITIONS) {
    it(`${c.name}: create, rerun, up after down, up after a kill, doctor --fix`, async (t) => {
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
          const one = (args: string[]) => runCli(w, args, { env, timeoutMs: 120_000 });
          const cli = c.twice
            ? async (args: string[]) => {
                const [a, b] = await Promise.all([one(args), one(args)]);
                ok(a, `first of two: ${args.join(' ')}`);
                return b;
              }
            : one;
          await op.run(cli, c.copied && i > 0 ? dir : 'secrets-sandbox', base);
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
            expect(serversOf(other).map((s) => s.pid), `${op.name}: the original sandbox's server`).toEqual([otherPid]);
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
    }, 600_000);
  }
});
