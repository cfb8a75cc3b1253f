/**
 * Hazards a path can hold, planted for real: entry kinds x owners x modes x symlink shapes. The
 * unit tests of src/io generate them with fast-check and judge the reader, the writer and the trust
 * boundary against `expectedRefusal`, a table written from the rules (README: Security), not from the
 * code. The attack harness plants the same hazards at every path the sandbox model names.
 *
 * Another owner is real: uid 65534 (nobody), which only root can plant; `canPlant` says what this
 * process can set up, so a generator can filter out what it cannot (never silently pass).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, lchownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';

export const NOBODY = 65534;
export const IS_ROOT = process.geteuid?.() === 0;

export type Shape =
  | 'absent'
  | 'file'
  | 'dir'
  | 'fifo'
  | 'char-device'
  | 'link-in' // a symlink to a regular file inside the sandbox
  | 'link-out' // a symlink to a regular file outside the sandbox
  | 'link-dangling'; // a symlink to nothing

export type Owner = 'me' | 'root' | 'other';

export interface Hazard {
  shape: Shape;
  /** Owner of the entry (for a link: of the link and of its target). */
  owner: Owner;
  /** Permission bits of the entry (or of a link's target). */
  mode: number;
  /** Bytes in the file (or in a link's target). */
  size: number;
}

export const SHAPES: readonly Shape[] = [
  'absent',
  'file',
  'dir',
  'fifo',
  'char-device',
  'link-in',
  'link-out',
  'link-dangling',
];

/** Modes that matter to the rules: private, group- or world-readable, group- or world-writable, sticky. */
export const MODES: readonly number[] = [0o600, 0o644, 0o664, 0o666, 0o700, 0o755, 0o775, 0o777, 0o1777];

export function canPlant(h: Hazard): boolean {
  if (h.shape === 'char-device' && !IS_ROOT) return false;
  if (h.owner !== 'me' && !IS_ROOT) return false;
  return true;
}

export const arbHazard = (sizes: readonly number[] = [0, 10, 5000]): fc.Arbitrary<Hazard> =>
  fc
    .record({
      shape: fc.constantFrom(...SHAPES),
      owner: fc.constantFrom<Owner>('me', 'root', 'other'),
      mode: fc.constantFrom(...MODES),
      size: fc.constantFrom(...sizes),
    })
    .filter(canPlant);

function uidOf(o: Owner): number {
  if (o === 'other') return NOBODY;
  if (o === 'root') return 0;
  return process.geteuid?.() ?? 0;
}

function own(path: string, o: Owner): void {
  if (IS_ROOT) lchownSync(path, uidOf(o), uidOf(o) === NOBODY ? NOBODY : 0);
}

/**
 * Plants `h` at `path`; `outside` is a directory outside the sandbox for link targets. Returns the
 * content a reader should see when the entry is a readable file (or a link to one).
 */
export function plant(path: string, h: Hazard, outside: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const content = 'x'.repeat(h.size);
  const target = (where: string) => {
    mkdirSync(where, { recursive: true });
    const t = join(where, `target-${Math.random().toString(36).slice(2)}`);
    writeFileSync(t, content);
    chmodSync(t, h.mode);
    own(t, h.owner);
    return t;
  };
  switch (h.shape) {
    case 'absent':
      break;
    case 'file':
      writeFileSync(path, content);
      chmodSync(path, h.mode);
      own(path, h.owner);
      break;
    case 'dir':
      mkdirSync(path);
      chmodSync(path, h.mode);
      own(path, h.owner);
      break;
    case 'fifo':
      execFileSync('mkfifo', [path]);
      chmodSync(path, h.mode);
      own(path, h.owner);
      break;
    case 'char-device':
      execFileSync('mknod', [path, 'c', '1', '3']); // like /dev/null
      chmodSync(path, h.mode);
      own(path, h.owner);
      break;
    case 'link-in':
      symlinkSync(target(join(dirname(path), '.targets')), path);
      own(path, h.owner);
      break;
    case 'link-out':
      symlinkSync(target(outside), path);
      own(path, h.owner);
      break;
    case 'link-dangling':
      symlinkSync(join(outside, 'nothing-here'), path);
      own(path, h.owner);
      break;
  }
  return content;
}

/** What the rules say the reader does with a hazard (null: it reads the content). */
export function expectedReadRefusal(
  h: Hazard,
  o: { ownerCheck: boolean; noFollow: boolean; maxBytes: number },
): 'missing' | 'not-regular' | 'too-large' | 'foreign-owner' | 'symlink' | null {
  const link = h.shape.startsWith('link-');
  if (h.shape === 'absent' || h.shape === 'link-dangling') return o.noFollow && link ? 'symlink' : 'missing';
  if (link && o.noFollow) return 'symlink';
  if (h.shape === 'dir' || h.shape === 'fifo' || h.shape === 'char-device') return 'not-regular';
  if (o.ownerCheck && h.owner === 'other') return 'foreign-owner';
  if (h.size > o.maxBytes) return 'too-large';
  return null;
}

/**
 * What the trust boundary says of a hazard at an entry of `kind` inside a sandbox (null: trusted).
 * `recorded`: the sandbox recorded its links at creation (a link out not among them is refused).
 */
export function expectedTrustRefusal(
  h: Hazard,
  kind: 'dir' | 'file',
  recorded: boolean,
): 'not-regular' | 'foreign-owner' | 'unsafe-mode' | 'unsafe-link' | null {
  if (h.shape === 'absent' || h.shape === 'link-dangling') {
    // A dangling link leaving the sandbox is still a link out.
    if (h.shape === 'link-dangling' && recorded && h.owner !== 'other') return 'unsafe-link';
    return h.shape === 'link-dangling' && h.owner === 'other' ? 'foreign-owner' : null;
  }
  const link = h.shape.startsWith('link-');
  if (link && h.owner === 'other') return 'foreign-owner';
  if (h.shape === 'link-out' && recorded) return 'unsafe-link';
  // Links here point at regular files.
  const isDir = h.shape === 'dir';
  const isFile = h.shape === 'file' || link;
  if (kind === 'dir' && !isDir) return 'not-regular';
  if (kind === 'file' && !isFile && !isDir) return 'not-regular';
  if (h.owner === 'other') return 'foreign-owner';
  const writableByOthers = (h.mode & 0o022) !== 0;
  const stickyAndMine = isDir && (h.mode & 0o1000) !== 0 && uidOf(h.owner) === uidOf('me');
  if (writableByOthers && !stickyAndMine) return 'unsafe-mode';
  return null;
}
