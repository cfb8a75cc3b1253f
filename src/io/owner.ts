/**
 * Who owns an entry, and whether that owner is one this tool trusts: the invoking user, or root
 * (root can replace anything anyway, and system files such as /usr/bin/python3 are root's).
 */
import { readFileSync } from 'node:fs';

/** The effective uid, or undefined where the platform has none (Windows): no owner rule there. */
export function currentUid(): number | undefined {
  return process.geteuid?.();
}

export function isTrustedOwner(uid: number, me: number | undefined = currentUid()): boolean {
  return me === undefined || uid === me || uid === 0;
}

let names: Map<number, string> | undefined;

/**
 * `nobody (uid 65534)`, or `uid 65534` when the name is unknown. /etc/passwd is root's and a fixed
 * path, so it is read directly, not through the user-file reader (which names owners with this).
 */
export function ownerLabel(uid: number): string {
  if (!names) {
    names = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
      }
    } catch {
      // No passwd file (a container without one): uids alone.
    }
  }
  const name = names.get(uid);
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}
