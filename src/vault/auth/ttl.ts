/** A TTL as Vault writes durations: `90s`, `30m`, `24h`, `7d`, a bare number of seconds, or 0 for none. */
export function parseTtl(raw: string): number | null {
  const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(raw);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return n * unit;
}

export function formatTtl(seconds: number): string {
  if (seconds === 0) return '0 (no expiry)';
  for (const [u, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds % n === 0) return `${seconds / n}${u}`;
  return `${seconds}s`;
}
