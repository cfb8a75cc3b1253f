/**
 * Mount and path names the server would refuse, or that would break the files we write, found
 * before anything starts. Vault and OpenBao keep these mounts for themselves and refuse a mount at,
 * under or over one of them (vault/mount.go `protectedMounts`; "path is already in use" for a
 * mount nested in another). A dev server starts with secret/ mounted (KV), so a mount under it
 * (`secret/team`, `secret/data`) is refused too.
 */
export const RESERVED_MOUNTS = ['audit', 'auth', 'sys', 'cubbyhole', 'identity'];
/** Mounted by every dev server: the tool reuses `secret` itself, but nothing may nest under it. */
export const DEV_SERVER_MOUNTS = ['secret', ...RESERVED_MOUNTS];

/** Why `mount` (normalized: no leading or trailing '/') cannot be the KV mount, or null. */
export function mountProblem(mount: string): string | null {
  const [first = ''] = mount.split('/');
  if (RESERVED_MOUNTS.includes(first)) return `is under '${first}/', which the server keeps for itself`;
  for (const m of DEV_SERVER_MOUNTS) {
    if (mount.startsWith(`${m}/`))
      return `is nested under the dev server's '${m}/' mount, which the server refuses ("path is already in use")`;
  }
  return pathCharsProblem(mount);
}

/**
 * Characters a mount or path may not hold here: quotes, '$', '\\' and '`' would need quoting that
 * bash, docker compose and python-dotenv do not agree on (they all land in the .env), and control
 * characters and spaces are not names.
 */
export function pathCharsProblem(value: string): string | null {
  const bad = value.match(/[\s'"$\\`\x00-\x1f\x7f]/);
  if (!bad) return null;
  const c = bad[0];
  const shown = /[\x00-\x20\x7f]/.test(c) ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c;
  return `holds '${shown}'; use letters, digits, '-', '_', '.' and '/'`;
}
