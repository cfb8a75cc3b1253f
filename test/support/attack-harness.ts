/**
 * The attack harness: its cases come from the sandbox model, not from a list. Every path the model
 * names (src/sandbox/entries.ts) x every hazard class x every command; each case plants the hazard
 * for real, runs the built CLI, and judges the outcome by rules written from README "Reliability",
 * then removes the hazard and proves a following run converges. A path added to the model is
 * attacked by the next run without a new test.
 *
 * Hazards are real: FIFOs, symlinks out of the sandbox and to a file of another user (uid 65534),
 * the wrong entry type, entries another user owns, a full file system (a tmpfs mounted by the test,
 * byte- or inode-limited) and a read-only one (a read-only bind mount). "Unreadable" needs a caller
 * the kernel holds to modes: the CLI runs without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
 * (setpriv), so root is held to modes as any user is.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxEntry, sandboxEntries, sandboxLayout } from '../../src/sandbox/index.js';
import { BIN, scaled } from './env.js';
import { NOBODY } from './hazards.js';
import {
  cleanup,
  envOf,
  freePort,
  processesUnder,
  type Run,
  runProcess,
  serversUnder,
  type Workspace,
  workspace,
} from './sandbox.js';

export const HAZARD_CLASSES = [
  'fifo',
  'link-out',
  'link-foreign',
  'wrong-type',
  'unreadable',
  'foreign-owner',
  'full-bytes',
  'full-inodes',
  'read-only',
] as const;
export type HazardClass = (typeof HAZARD_CLASSES)[number];

export const COMMAND_NAMES = [
  'create',
  'rerun',
  'up',
  'down',
  'status',
  'doctor',
  'doctor --fix',
  '--dry-run',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export interface AttackCase {
  entry: Pick<SandboxEntry, 'key' | 'kind' | 'owner' | 'secret' | 'what'>;
  hazard: HazardClass;
  command: CommandName;
}

/** The model's entries, for a sandbox at its default layout. */
export function modelEntries(): AttackCase['entry'][] {
  return sandboxEntries(sandboxLayout('/s')).map(({ key, kind, owner, secret, what }) => ({
    key,
    kind,
    owner,
    secret,
    what,
  }));
}

/** Every path x every hazard x every command. */
export function allCases(): AttackCase[] {
  return modelEntries().flatMap((entry) =>
    HAZARD_CLASSES.flatMap((hazard) => COMMAND_NAMES.map((command) => ({ entry, hazard, command }))),
  );
}

/**
 * Every (path, hazard) pair once, the command chosen as in a Latin square (index of the path +
 * index of the hazard, modulo the commands), so that every (path, command) and every (hazard,
 * command) pair is covered too. CSS_ATTACKS=pairs runs it.
 */
export function pairCases(): AttackCase[] {
  return modelEntries().flatMap((entry, i) =>
    HAZARD_CLASSES.map((hazard, j) => ({
      entry,
      hazard,
      command: COMMAND_NAMES[(i + j) % COMMAND_NAMES.length] as CommandName,
    })),
  );
}

/**
 * The deterministic sample CI runs: case k takes hazard k mod 9, command k mod 8 and path p*k mod
 * the model's paths, p a prime that does not divide their count (so no path repeats before all were
 * taken): every path once, and every hazard and every command at least twice.
 */
export function ciCases(): AttackCase[] {
  const entries = modelEntries();
  // One case per path of the model, so CI attacks every path (and it fits the per-file time rule).
  const n = entries.length;
  const step = [5, 7, 11, 13].find((p) => entries.length % p !== 0) ?? 1;
  const sample = Array.from({ length: n }, (_, k) => ({
    entry: entries[(k * step) % entries.length] as AttackCase['entry'],
    hazard: HAZARD_CLASSES[k % HAZARD_CLASSES.length] as HazardClass,
    command: COMMAND_NAMES[k % COMMAND_NAMES.length] as CommandName,
  }));
  const named = REGRESSIONS.flatMap(([key, hazard, command]) => {
    const entry = entries.find((e) => e.key === key);
    return entry ? [{ entry, hazard, command }] : [];
  });
  return [...sample, ...named];
}

/**
 * Cases a wider run (CSS_ATTACKS=pairs) once failed, kept in every run: an unreadable file the run
 * reads was found only after the server had started and seeded (exit 2 with a clean-up line, not
 * one line with nothing started).
 */
export const REGRESSIONS: [AttackCase['entry']['key'], HazardClass, CommandName][] = [
  ['gitignore', 'unreadable', 'create'],
  ['dag', 'unreadable', 'up'],
  ['written', 'unreadable', 'create'],
];

/** The cases of file `part` of `parts`, dealt round robin (CSS_ATTACKS=full|pairs for the larger sets). */
export function casesOfPart(part: number, parts: number): AttackCase[] {
  const set = process.env.CSS_ATTACKS;
  const all = set === 'full' ? allCases() : set === 'pairs' ? pairCases() : ciCases();
  const mine = all.filter((_, i) => i % parts === part);
  // CSS_ATTACKS_ONLY=<regex>: the cases whose names match, for working on one (never set in CI).
  const only = process.env.CSS_ATTACKS_ONLY;
  return only ? mine.filter((c) => new RegExp(only).test(caseName(c))) : mine;
}

export const caseName = (c: AttackCase) => `${c.hazard} at ${c.entry.key} (${c.entry.what}), then ${c.command}`;

/** The secrets of the harness's sandbox: no output may hold them. */
export const ROOT_TOKEN = 'harness-root-TOKEN-4f7e9a2b6c1d';
export const PASSWORD = 'harness-PW-9d3c7b1a5e';
const CONN = `pg=postgres://app:${PASSWORD}@db.example.com:5432/app`;

/** A run of the CLI held to modes as any user is (no CAP_DAC_OVERRIDE, no CAP_DAC_READ_SEARCH). */
export function runHeld(w: Workspace, args: string[], timeoutMs = scaled(45_000)): Promise<Run> {
  return runProcess('setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', BIN, ...args], {
    cwd: w.cwd,
    env: w.env,
    timeoutMs,
  });
}

export function createArgs(port: number): string[] {
  return ['--yes', '--root-token', ROOT_TOKEN, '--conn', CONN, '--address', `127.0.0.1:${port}`, '--check', 'vault'];
}

/** What each command runs, and the state of the sandbox it starts from. */
export function commandArgs(c: CommandName, port: number): { args: string[]; from: 'absent' | 'running' | 'stopped' } {
  switch (c) {
    case 'create':
      return { args: createArgs(port), from: 'absent' };
    case 'rerun':
      return { args: createArgs(port), from: 'running' };
    case '--dry-run':
      return { args: [...createArgs(port), '--dry-run'], from: 'running' };
    case 'up':
      return { args: ['up'], from: 'stopped' };
    case 'down':
      return { args: ['down'], from: 'running' };
    case 'status':
      return { args: ['status'], from: 'running' };
    case 'doctor':
      return { args: ['doctor'], from: 'running' };
    case 'doctor --fix':
      return { args: ['doctor', '--fix'], from: 'stopped' };
  }
}

/** One entry as the judge compares it: kind, mode, owner, link target and content. */
interface Seen {
  type: 'file' | 'dir' | 'link' | 'fifo' | 'other';
  mode: number;
  uid: number;
  link?: string;
  sha?: string;
}

function see(path: string): Seen | null {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return null;
  }
  const type = st.isSymbolicLink()
    ? 'link'
    : st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'dir'
        : st.isFIFO()
          ? 'fifo'
          : 'other';
  const out: Seen = { type, mode: st.mode & 0o7777, uid: st.uid };
  if (type === 'link') out.link = readlinkSync(path);
  if (type === 'file') out.sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  return out;
}

/** Every entry under `root` (not following links), by path. */
function seeTree(root: string): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const walk = (p: string) => {
    const s = see(p);
    if (!s) return;
    out.set(p, s);
    if (s.type === 'dir' && (s.mode & 0o500) === 0o500) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(root);
  return out;
}

export interface Harness {
  w: Workspace;
  port: number;
  dir: string;
  /** Outside the sandbox: link targets the user made. */
  outside: string;
  /** Outside the sandbox, owned by uid 65534. */
  foreign: string;
  stash: string;
  mounts: string[];
}

export function harness(w: Workspace, port: number): Harness {
  const h: Harness = {
    w,
    port,
    dir: join(w.cwd, 'secrets-sandbox'),
    outside: join(w.root, 'outside'),
    foreign: join(w.root, 'foreign'),
    stash: join(w.root, 'stash'),
    mounts: [],
  };
  for (const d of [h.outside, h.foreign, h.stash]) mkdirSync(d, { recursive: true });
  chmodSync(h.foreign, 0o755);
  return h;
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

function makeEntry(path: string, kind: 'file' | 'dir', content = 'planted\n'): void {
  mkdirSync(dirname(path), { recursive: true });
  if (kind === 'dir') mkdirSync(path);
  else writeFileSync(path, content);
}

/** A planted hazard: how to take it away again, and what the judge may let change. */
export interface Planted {
  /** The entry the user put there (or the mount point), which no command may change. */
  at: string;
  /** Link targets outside the sandbox the command may write through (a link made before the first run). */
  writableTargets: string[];
  restore(): void;
}

/** Moves what is at `path` out of the way (when anything is), returning how to put it back. */
function stashAway(h: Harness, path: string): () => void {
  if (!see(path)) return () => {};
  const to = join(h.stash, `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  renameSync(path, to);
  return () => {
    rmSync(path, { recursive: true, force: true });
    renameSync(to, path);
  };
}

/** The directory a file-system hazard covers: the entry itself for a dir, else its parent. */
const mountDir = (e: AttackCase['entry'], path: string) => (e.kind === 'dir' ? path : dirname(path));

function mountFull(h: Harness, d: string, limit: 'bytes' | 'inodes'): void {
  const copy = join(h.stash, `copy-${Date.now()}`);
  cpSync(d, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const entries = seeTree(copy).size;
  const opts = limit === 'bytes' ? 'size=4m,mode=0755' : `size=64m,nr_inodes=${entries + 8},mode=0755`;
  sh('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', d]);
  h.mounts.push(d);
  sh('cp', ['-a', `${copy}/.`, d]);
  const st = statSync(copy);
  chmodSync(d, st.mode & 0o7777);
  lchownSync(d, st.uid, st.gid);
  rmSync(copy, { recursive: true, force: true });
  if (limit === 'bytes') {
    try {
      sh('dd', ['if=/dev/zero', `of=${join(d, '.filler')}`, 'bs=64k']);
    } catch {
      /* ENOSPC: full, as meant */
    }
  } else {
    try {
      for (let i = 0; i < 100; i++) writeFileSync(join(d, `.filler-${i}`), '');
    } catch {
      /* ENOSPC: out of inodes, as meant */
    }
  }
}

/** Unmounts `d`; throws while a process still works in it (a server started there). */
function unmount(h: Harness, d: string, lazy = false): void {
  sh('umount', lazy ? ['-l', d] : [d]);
  h.mounts = h.mounts.filter((m) => m !== d);
}

/** Plants `hazard` at the entry's path. */
export function plant(h: Harness, c: AttackCase): Planted {
  const path = sandboxLayout(h.dir)[c.entry.key];
  const kind = c.entry.kind;
  const existed = see(path);
  const madeParents: string[] = [];
  for (let d = dirname(path); !existsSync(d); d = dirname(d)) madeParents.unshift(d);
  // Parents made for the hazard go again when nothing else came to live in them (a create's sandbox stays).
  const dropParents = () => {
    for (const d of [...madeParents].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  };
  const parentsFor = () => {
    for (const d of madeParents) mkdirSync(d, { mode: d.includes('.sandbox') ? 0o700 : 0o755 });
  };
  switch (c.hazard) {
    case 'fifo': {
      const back = stashAway(h, path);
      parentsFor();
      sh('mkfifo', [path]);
      return { at: path, writableTargets: [], restore: () => (rmSync(path, { force: true }), back(), dropParents()) };
    }
    case 'link-out': {
      // The user moved the entry out of the sandbox and linked it back (or linked to a new one).
      const target = join(h.outside, `${c.entry.key}-${Date.now()}`);
      if (existed) renameSync(path, target);
      else makeEntry(target, kind);
      parentsFor();
      symlinkSync(target, path);
      return {
        at: path,
        writableTargets: [target],
        restore: () => {
          rmSync(path, { force: true });
          if (existed) renameSync(target, path);
          else rmSync(target, { recursive: true, force: true });
          dropParents();
        },
      };
    }
    case 'link-foreign': {
      const target = join(h.foreign, `${c.entry.key}-${Date.now()}`);
      if (existed && existed.type === 'file') writeFileSync(target, readFileSync(path));
      else makeEntry(target, kind);
      lchownSync(target, NOBODY, NOBODY);
      const back = stashAway(h, path);
      parentsFor();
      symlinkSync(target, path);
      return {
        at: path,
        writableTargets: [],
        restore: () => (
          rmSync(path, { force: true }), back(), rmSync(target, { recursive: true, force: true }), dropParents()
        ),
      };
    }
    case 'wrong-type': {
      const back = stashAway(h, path);
      parentsFor();
      if (kind === 'file') makeEntry(join(path, 'inside'), 'file');
      else writeFileSync(path, 'a file where a directory belongs\n');
      return {
        at: path,
        writableTargets: [],
        restore: () => (rmSync(path, { recursive: true, force: true }), back(), dropParents()),
      };
    }
    case 'unreadable': {
      if (!existed) parentsFor(), makeEntry(path, kind);
      const mode = existed?.mode;
      chmodSync(path, 0o000);
      return {
        at: path,
        writableTargets: [],
        restore: () => {
          if (mode === undefined) rmSync(path, { recursive: true, force: true });
          else chmodSync(path, mode);
          dropParents();
        },
      };
    }
    case 'foreign-owner': {
      if (!existed) parentsFor(), makeEntry(path, kind);
      const st = lstatSync(path);
      lchownSync(path, NOBODY, NOBODY);
      return {
        at: path,
        writableTargets: [],
        restore: () => {
          if (!existed) rmSync(path, { recursive: true, force: true });
          else lchownSync(path, st.uid, st.gid);
          dropParents();
        },
      };
    }
    case 'full-bytes':
    case 'full-inodes':
    case 'read-only': {
      const d = mountDir(c.entry, path);
      const made = !existsSync(d);
      if (made) parentsFor(), mkdirSync(d, { recursive: true, mode: d.includes('.sandbox') ? 0o700 : 0o755 });
      if (c.hazard === 'read-only') {
        sh('mount', ['--bind', d, d]);
        h.mounts.push(d);
        sh('mount', ['-o', 'remount,bind,ro', d]);
      } else mountFull(h, d, c.hazard === 'full-bytes' ? 'bytes' : 'inodes');
      return {
        at: d,
        writableTargets: [],
        restore: () => {
          unmount(h, d);
          if (made) rmSync(d, { recursive: true, force: true });
          dropParents();
        },
      };
    }
  }
}

/** The files the sandbox's running servers hold open, by their path now. */
function openByServers(h: Harness): Set<string> {
  const out = new Set<string>();
  for (const { pid } of serversUnder(h.w.root)) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const p = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (p.startsWith('/')) out.add(p.replace(/ \(deleted\)$/, ''));
      }
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The user's entries of the model and everything outside the sandbox, as the judge sees them. */
export function userView(h: Harness): Map<string, Seen> {
  const out = new Map<string, Seen>();
  for (const e of sandboxEntries(sandboxLayout(h.dir))) {
    if (e.owner !== 'user') continue;
    const s = see(e.path);
    if (s) out.set(e.path, s);
  }
  for (const root of [h.outside, h.foreign]) for (const [p, s] of seeTree(root)) out.set(p, s);
  return out;
}

const STACK = /\bat .*\.(js|ts):\d+|unexpected error|Node\.js v\d|TypeError|ReferenceError|RangeError|SyntaxError/;

/**
 * The rules every case is judged by: an exit code of the contract with one clear line, no secret
 * in the output, nothing of the user's changed, no process of the run left behind.
 */
export function judge(
  h: Harness,
  c: AttackCase,
  planted: Planted,
  r: Run,
  before: { user: Map<string, Seen>; hazard: Seen | null },
): void {
  const what = `${caseName(c)}: exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  const out = r.stdout + r.stderr;
  expect([0, 1, 2, 130], what).toContain(r.code);
  expect(out, what).not.toMatch(STACK);
  if (r.code === 2) expect(r.stderr.trim().split('\n'), what).toEqual([expect.stringMatching(/^error: \S/)]);
  if (r.code === 1 && !c.command.startsWith('doctor') && c.command !== 'status' && c.command !== 'down')
    expect(
      r.stderr.split('\n').filter((l) => /^(✖|error:) /.test(l)),
      what,
    ).toHaveLength(1);
  expect(out, `${what}\n(the root token)`).not.toContain(ROOT_TOKEN);
  expect(out, `${what}\n(a password)`).not.toContain(PASSWORD);

  // Nothing of the user's changed: what was outside the sandbox, the entry planted, and on failure
  // every entry of the user's that was there.
  const now = userView(h);
  const writes = ['create', 'rerun', 'up', 'doctor --fix'].includes(c.command);
  for (const [p, s] of before.user) {
    const outside = p.startsWith(h.outside) || p.startsWith(h.foreign);
    const through = planted.writableTargets.some((t) => p === t || p.startsWith(`${t}/`));
    const mayChange = r.code === 0 && writes && (through ? c.command === 'create' : !outside);
    if (!mayChange) expect(now.get(p), `${what}\n${relative(h.w.root, p)} changed`).toEqual(s);
  }
  if (before.hazard && !['full-bytes', 'full-inodes', 'read-only'].includes(c.hazard)) {
    const s = see(planted.at);
    const accepted = r.code === 0 && planted.writableTargets.length > 0 && c.command === 'create';
    expect(s && { ...s, sha: accepted ? undefined : s.sha }, `${what}\nthe planted entry changed`).toEqual({
      ...before.hazard,
      sha: accepted ? undefined : before.hazard.sha,
    });
  }

  // No process of the run left: at most one server, and it is this sandbox's (cwd its private HOME).
  const servers = serversUnder(h.w.root);
  expect(servers.length, `${what}\nservers: ${JSON.stringify(servers)}`).toBeLessThanOrEqual(
    c.command === 'down' && r.code === 0 ? 0 : 1,
  );
  const serverPids = new Set(servers.map((s) => s.pid));
  expect(
    processesUnder(h.w.root).filter((p) => !serverPids.has(p)),
    `${what}\na process of the run is left`,
  ).toEqual([]);
}

/** The sandbox's .env works: its token reads the seeded connection at its address. */
export async function envWorks(h: Harness, what: string): Promise<void> {
  const env = envOf(h.dir);
  const res = await fetch(`${env.get('VAULT_ADDR')}/v1/secret/data/connections/pg`, {
    headers: { 'X-Vault-Token': env.get('VAULT_TOKEN') ?? '' },
  });
  expect(res.status, `${what}: the .env token reads pg at ${env.get('VAULT_ADDR')}`).toBe(200);
  const body = (await res.json()) as { data: { data: { conn_uri: string } } };
  expect(body.data.data.conn_uri).toContain(PASSWORD);
}

function ok(r: Run, what: string): void {
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
}

/** Brings the sandbox to the state a command starts from. */
export async function prepare(h: Harness, from: 'absent' | 'running' | 'stopped'): Promise<void> {
  if (from === 'absent') {
    if (existsSync(h.dir)) ok(await runHeld(h.w, ['down']), 'down before a fresh create');
    rmSync(h.dir, { recursive: true, force: true });
    return;
  }
  if (!existsSync(join(h.dir, '.env'))) ok(await runHeld(h.w, createArgs(h.port)), 'create');
  if (from === 'running') {
    if (serversUnder(h.w.root).length === 0) ok(await runHeld(h.w, ['up']), 'up');
  } else if (serversUnder(h.w.root).length > 0) ok(await runHeld(h.w, ['down']), 'down');
}

/** One case, start to end: plant, run, judge, take the hazard away, and converge. */
export async function attack(h: Harness, c: AttackCase): Promise<void> {
  const { args, from } = commandArgs(c.command, h.port);
  await prepare(h, from);
  const planted = plant(h, c);
  let r: Run;
  let hazard: Seen | null;
  try {
    hazard = see(planted.at);
    const seenBefore = userView(h);
    // What a running server writes through its open files (its banner and log, wherever they were moved) is not the run's doing.
    for (const p of openByServers(h)) seenBefore.delete(p);
    r = await runHeld(h.w, args);
    judge(h, c, planted, r, { user: seenBefore, hazard });
  } finally {
    try {
      planted.restore();
    } catch {
      // A server started into the hazard's mount holds it: down (which must find it), then again.
      await runHeld(h.w, ['down']);
      planted.restore();
    }
  }
  // With the hazard gone, a plain rerun converges: exit 0, one server, the .env works.
  const again = await runHeld(h.w, createArgs(h.port));
  ok(again, `${caseName(c)}: the rerun after the hazard was removed`);
  expect(serversUnder(h.w.root), `${caseName(c)}: one server after the rerun`).toHaveLength(1);
  await envWorks(h, `${caseName(c)}: after the rerun`);
}

/** Takes every mount the harness made away (after a failure mid-case). */
export function unmountAll(h: Harness): void {
  for (const d of [...h.mounts].reverse()) unmount(h, d, true);
}

/** One test file of the harness: part `part` of `parts`, on one sandbox the cases take turns on. */
export function runPart(
  part: number,
  parts: number,
  serverBin: string | undefined,
  skipReason: string | undefined,
): void {
  const cases = casesOfPart(part, parts);
  describe.skipIf(skipReason)(`attack harness, part ${part + 1} of ${parts} (${cases.length} cases)`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = harness(workspace(serverBin), await freePort());
    });
    afterAll(async () => {
      unmountAll(h);
      await runHeld(h.w, ['down']);
      expect(cleanup(h.w)).toEqual([]);
    });
    it.each(cases.map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
      try {
        await attack(h, c);
      } finally {
        unmountAll(h);
      }
    });
  });
}
