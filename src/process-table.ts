/**
 * What the operating system says about a process: alive or not, its command line, parent, process
 * group, environment and working dir (Linux: /proc; elsewhere `ps` and `lsof`, which tell less:
 * no environment). Callers prove a process theirs from these facts before they signal it.
 * /proc/<pid>/* are the kernel's records of a process, not files a user can plant: read directly,
 * not through the reader of user files (src/io/read.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

const HAS_PROC = existsSync('/proc/self/stat');

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** An exited process lingers as a zombie until its (adoptive) parent reaps it; for us it is gone. */
function isZombie(pid: number): boolean {
  return statFields(pid)?.[0] === 'Z';
}

/**
 * When the process started, in clock ticks since boot (Linux; null elsewhere): with the pid, its
 * identity, since a recycled pid belongs to a process that started later.
 */
export function startTicks(pid: number): number | null {
  const f = statFields(pid);
  // Field 22 of stat; the fields here start at field 3 (the state).
  const v = f ? Number(f[19]) : Number.NaN;
  return Number.isFinite(v) ? v : null;
}

/** True while the process runs. A zombie (exited, not yet reaped by whoever adopted it) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** The command line of a live process, or null when there is none (or it cannot be read). */
export function processCommandLine(pid: number): string | null {
  try {
    if (existsSync(`/proc/${pid}/cmdline`)) {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || null;
    }
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The environment a process started with (Linux only; null elsewhere or when it cannot be read). */
export function environOf(pid: number): Map<string, string> | null {
  try {
    const text = readFileSync(`/proc/${pid}/environ`, 'utf8');
    const m = new Map<string, string>();
    for (const kv of text.split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) m.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    return m;
  } catch {
    return null;
  }
}

/** Whether environments can be read here at all (Linux), so a missing variable proves something. */
export function canReadEnviron(): boolean {
  return existsSync('/proc/self/environ');
}

/** The working dir of a process (from /proc, or lsof where there is no /proc), or null. */
export function cwdOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    /* no /proc (macOS, BSD): ask lsof below */
  }
  if (process.platform === 'linux') return null;
  try {
    // `lsof -Fn` prints one field per line; the name field of the cwd descriptor starts with 'n'.
    const out = execFileSync('lsof', ['-a', '-p', String(pid), '-d', 'cwd', '-Fn'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 3000,
    });
    return (
      out
        .split('\n')
        .find((l) => l.startsWith('n'))
        ?.slice(1) || null
    );
  } catch {
    return null;
  }
}

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
}

/** Every process we can see with its parent and process group (Linux: /proc; elsewhere: ps). */
export function processTable(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  try {
    if (HAS_PROC) {
      for (const e of readdirSync('/proc')) {
        if (!/^\d+$/.test(e)) continue;
        const f = statFields(Number(e));
        // After the state: ppid, pgrp.
        if (f && f[0] !== 'Z') out.push({ pid: Number(e), ppid: Number(f[1]), pgid: Number(f[2]) });
      }
      if (out.length) return out;
    }
    const text = execFileSync('ps', ['-A', '-o', 'pid=', '-o', 'ppid=', '-o', 'pgid='], { encoding: 'utf8' });
    for (const line of text.split('\n')) {
      const [pid, ppid, pgid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid !== undefined && pgid !== undefined) out.push({ pid, ppid, pgid });
    }
  } catch {
    /* no process table: callers signal what they know by pid */
  }
  return out;
}

/** Parent pid of every process we can see. */
export function parentPids(): Map<number, number> {
  return new Map(processTable().map((p) => [p.pid, p.ppid]));
}

/**
 * The processes `roots` started, at any depth, and every member of the process groups they lead:
 * found while the roots live, since an orphan is re-parented and cannot be told apart afterwards.
 */
export function familyOf(roots: number[], table: ProcessEntry[] = processTable()): number[] {
  const family = new Set(roots);
  const groups = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (family.has(p.pid)) continue;
      if (family.has(p.ppid) || groups.has(p.pgid)) {
        family.add(p.pid);
        grew = true;
      }
    }
  }
  return [...family];
}

/** Live processes whose environment holds `name=value` (Linux only; empty elsewhere). */
export function processesWithEnv(name: string, value: string, table: ProcessEntry[] = processTable()): number[] {
  if (!canReadEnviron()) return [];
  const needle = `${name}=${value}`;
  const out: number[] = [];
  for (const p of table) {
    if (p.pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0').includes(needle)) out.push(p.pid);
    } catch {
      /* gone, or another user's: not ours either way */
    }
  }
  return out;
}
