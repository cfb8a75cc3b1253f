/**
 * Every pointer works when followed: each command this tool prints that names itself ("run X",
 * "fix: X", next steps), pasted literally from the directory the user ran it in, does what the
 * message says it does. Each case provokes a message, takes every such command out of it, runs it
 * through the shell, and checks the claim (the server runs, doctor passes, ...).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, missing, scaled, serverBinary } from '../support/env.js';
import { runCli, runProcess, serversUnder, type Workspace, workspaces } from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary', BIN);
const space = workspaces(BIN);

/** How the tool names itself when run as the tests run it (node and the absolute path: not on PATH). */
const SELF = `node ${CLI}`;

/** Pointers not followed here, with why: each is followed by a test of its own. */
const NOT_HERE: [RegExp, string][] = [
  [/--with-airflow$/, 'installs Airflow from PyPI (minutes): test/e2e/with-airflow.airflow.test.ts runs it'],
  [
    / doctor .* --airflow [23]$/,
    "installs a pinned Airflow into the tool's cache (minutes, from PyPI; the install --with-airflow shares): doctor-issue20.test.ts checks it is offered, with-airflow.airflow.test.ts runs the install",
  ],
];

/** Every command naming the tool in `text`: from its name to ' (', two spaces, ' #', '; ' or the end of the line. */
function pointers(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    for (let i = line.indexOf(SELF); i >= 0; i = line.indexOf(SELF, i + 1)) {
      const rest = line.slice(i);
      const ends = [' (', '  ', ' #', '; '].map((d) => rest.indexOf(d)).filter((x) => x > 0);
      found.push((ends.length ? rest.slice(0, Math.min(...ends)) : rest).trim());
    }
  }
  return [...new Set(found)].filter((p) => !NOT_HERE.some(([rx]) => rx.test(p)));
}

/** Pastes a pointer into a shell in the user's directory. */
async function follow(w: Workspace, command: string) {
  const r = await runProcess('bash', ['-c', command], { cwd: w.cwd, env: w.env, timeoutMs: scaled(60_000) });
  expect(r.code, `followed: ${command}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

async function followAll(w: Workspace, text: string, expected: number): Promise<string[]> {
  const ps = pointers(text);
  expect(ps, `the pointers in:\n${text}`).toHaveLength(expected);
  for (const p of ps) await follow(w, p);
  return ps;
}

const statusOk = async (w: Workspace) => {
  const s = await runCli(w, ['status']);
  expect(s.code, s.stdout + s.stderr).toBe(0);
  expect(s.stdout).toMatch(/^running: /);
};

const doctorOk = async (w: Workspace) => {
  const d = await runCli(w, ['doctor', 'secrets-sandbox']);
  expect(d.code, d.stdout + d.stderr).toBe(0);
};

describe.skipIf(skipReason)('every pointer works when followed', () => {
  it(
    'status with no sandbox points at create (never up), and that creates it',
    async () => {
      const w = space();
      const s = await runCli(w, ['status']);
      expect(s.code).toBe(1);
      expect(s.stdout).not.toMatch(/ up\b/);
      expect(await followAll(w, s.stdout, 1)).toEqual([`${SELF} --yes`]);
      await statusOk(w);
      await runCli(w, ['down']);
    },
    scaled(60_000),
  );

  it(
    'up with no sandbox points at create, and that creates it',
    async () => {
      const w = space();
      const u = await runCli(w, ['up']);
      expect(u.code).toBe(2);
      await followAll(w, u.stderr, 1);
      await statusOk(w);
      await runCli(w, ['down']);
    },
    scaled(60_000),
  );

  it(
    "create's next steps: status says it runs, down stops it, and status then points at up, which starts it",
    async () => {
      const w = space();
      const c = await runCli(w, ['--yes', '--check', 'vault']);
      expect(c.code, c.stderr).toBe(0);
      const steps = pointers(c.stdout);
      expect(steps).toEqual([`${SELF} status`, `${SELF} down`]);
      expect((await follow(w, `${SELF} status`)).stdout).toMatch(/^running: /);
      expect((await follow(w, `${SELF} down`)).stdout).toContain('stopped');
      expect(serversUnder(w.root)).toEqual([]);
      const s = await runCli(w, ['status']);
      expect(s.code).toBe(1);
      await followAll(w, s.stdout, 1);
      await statusOk(w);
      await runCli(w, ['down']);
    },
    scaled(90_000),
  );

  it(
    "doctor's fixes, followed: a killed server (up), a secret gone from the server (up), kwargs Airflow drops (--force)",
    async () => {
      const w = space();
      expect((await runCli(w, ['--yes', '--check', 'vault'])).code).toBe(0);
      const dir = join(w.cwd, 'secrets-sandbox');
      for (const s of serversUnder(w.root)) process.kill(s.pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const killed = await runCli(w, ['doctor', 'secrets-sandbox']);
      expect(killed.code).toBe(1);
      await followAll(w, killed.stdout, 1);
      await doctorOk(w);

      // A seeded secret gone from the running server: the connections check points at up, which re-seeds.
      const cli = (BIN ?? 'bao').split('/').pop();
      await follow(
        w,
        `set -a; . secrets-sandbox/.env; set +a; ${cli} kv metadata delete -mount=secret connections/smtp_default`,
      );
      const gone = await runCli(w, ['doctor', 'secrets-sandbox']);
      expect(gone.code, gone.stdout).toBe(1);
      await followAll(w, gone.stdout, 1);
      await doctorOk(w);

      const env = join(dir, '.env');
      // A Python None in the kwargs JSON: Airflow drops the whole object without a word.
      writeFileSync(env, readFileSync(env, 'utf8').replace('"kv_engine_version":2', '"kv_engine_version":None'));
      // Doctor warns (the defaults still work here) and points at up --force, which puts the kwargs back.
      const dropped = await runCli(w, ['doctor', 'secrets-sandbox']);
      expect(dropped.stdout).toMatch(/^\[!\] Secrets backend kwargs: .*not valid JSON/m);
      await followAll(w, dropped.stdout, 1);
      await doctorOk(w);
      const after = await runCli(w, ['doctor', 'secrets-sandbox']);
      expect(after.stdout).toMatch(/^\[✓\] Secrets backend kwargs: /m);
      await runCli(w, ['down']);
    },
    scaled(110_000),
  );

  it(
    'a server that stopped answering: status points at up, which replaces it',
    async () => {
      const w = space();
      expect((await runCli(w, ['--yes', '--check', 'vault'])).code).toBe(0);
      const [server] = serversUnder(w.root);
      if (!server) throw new Error('no server started');
      process.kill(server.pid, 'SIGSTOP');
      try {
        const s = await runCli(w, ['status']);
        expect(s.code).toBe(1);
        expect(s.stdout).toContain('not answering');
        await followAll(w, s.stdout, 1);
      } finally {
        try {
          process.kill(server.pid, 'SIGCONT');
        } catch {
          /* replaced: gone */
        }
      }
      await statusOk(w);
      await runCli(w, ['down']);
    },
    scaled(90_000),
  );

  it(
    'a corrupt state.json: status says what to do, and doing it (stop, remove, up) works',
    async () => {
      const w = space();
      expect((await runCli(w, ['--yes', '--check', 'vault'])).code).toBe(0);
      const state = join(w.cwd, 'secrets-sandbox', '.sandbox', 'state.json');
      writeFileSync(state, '{"sandboxId": ');
      const s = await runCli(w, ['status']);
      expect(s.code).toBe(1);
      expect(s.stdout).toMatch(/fix: stop any server of this sandbox yourself, remove \S+state\.json, then run /);
      for (const p of serversUnder(w.root)) process.kill(p.pid, 'SIGTERM');
      await follow(w, `rm ${state}`);
      await followAll(w, s.stdout, 1);
      await statusOk(w);
      await runCli(w, ['down']);
    },
    scaled(60_000),
  );
});
