/**
 * The longest duration Vault and OpenBao can parse: Go's time.Duration holds at most 2^63-1 ns,
 * about 292 years; a longer one is refused by the server ("invalid duration").
 */
export const MAX_TTL_SECONDS = 9_223_372_036;

/**
 * A TTL as Vault writes durations: `90s`, `30m`, `24h`, `7d`, a bare number of seconds, or 0 for
 * none; null when it is not one, 'too-long' past what the server can hold.
 */
export function parseTtl(raw: string): number | null | 'too-long' {
  const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(raw);
  if (!m) return null;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  return seconds > MAX_TTL_SECONDS ? 'too-long' : seconds;
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
