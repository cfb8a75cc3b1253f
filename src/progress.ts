/**
 * Progress of a long wait (pip installing Airflow or OpenBao): a count against a known total, the
 * phase, the time spent and an estimate, reported on every event and on a timer so that a silent
 * stretch (pip unpacking 132 wheels says nothing for a minute) still shows a line at least every
 * few seconds. How often a line is printed is the reporter's business (a terminal redraws one
 * line; a log gets one every 5 s at most).
 */
export type ProgressSink = (line: string) => void;

export interface PipProgressOptions {
  /** What is being installed, for the line: "Airflow 3.3.2". */
  what: string;
  /** Packages pip will collect (the pinned lines of the requirements file). */
  total: number;
  /**
   * Share of the whole install spent collecting (downloading) on a typical machine, for the
   * estimate once collecting ends: the rest is pip unpacking and installing, which it does not count.
   */
  collectShare?: number;
  /** A typical whole duration, for an estimate before anything is counted. */
  typicalMs?: number;
  tickMs?: number;
  now?: () => number;
}

const fmtDuration = (ms: number): string => {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
};

/** The pinned package lines of a requirements file: the number of packages pip collects. */
export function pinnedCount(requirements: string): number {
  return requirements.split('\n').filter((l) => /^[A-Za-z0-9._-]+(\[[^\]]*\])?==/.test(l.trim())).length;
}

/**
 * Follows pip's output. Each package prints one `Collecting NAME` line (then `Downloading` or
 * `Using cached` for the same package, which must not be counted again), then one `Installing
 * collected packages` line before the long silent part.
 */
export class PipProgress {
  private collected = 0;
  private phase: 'collecting' | 'installing' = 'collecting';
  private readonly started: number;
  private collectEndedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private readonly now: () => number;

  constructor(
    private readonly opts: PipProgressOptions,
    private readonly sink: ProgressSink,
  ) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
  }

  start(): this {
    this.emit();
    this.timer = setInterval(() => this.emit(), this.opts.tickMs ?? 4_000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Feed one line of pip's output. */
  line(l: string): void {
    const m = /^Collecting\s+(\S+)/.exec(l);
    if (m && this.phase === 'collecting') {
      this.collected = Math.min(this.opts.total, this.collected + 1);
      this.last = (m[1] ?? '').replace(/==.*$/, '');
      this.emit();
    } else if (/^Installing collected packages/.test(l)) {
      this.phase = 'installing';
      this.collectEndedAt = this.now();
      this.emit();
    }
  }

  /** Milliseconds left, estimated, or undefined when there is nothing to go on yet. */
  remainingMs(): number | undefined {
    const elapsed = this.now() - this.started;
    const share = this.opts.collectShare ?? 0.4;
    if (this.phase === 'installing') {
      const total = ((this.collectEndedAt ?? this.now()) - this.started) / share;
      return Math.max(5_000, total - elapsed);
    }
    if (this.collected >= 3) {
      const collectTotal = (elapsed / this.collected) * this.opts.total;
      return Math.max(5_000, collectTotal / share - elapsed);
    }
    return this.opts.typicalMs !== undefined ? Math.max(5_000, this.opts.typicalMs - elapsed) : undefined;
  }

  text(): string {
    const elapsed = fmtDuration(this.now() - this.started);
    const left = this.remainingMs();
    const eta = left === undefined ? '' : `, about ${fmtDuration(left)} left`;
    if (this.phase === 'installing')
      return `installing ${this.opts.what}: unpacking ${this.opts.total} packages (${elapsed}${eta})`;
    return `installing ${this.opts.what}: ${this.collected}/${this.opts.total} packages collected${this.last ? ` (${this.last})` : ''} (${elapsed}${eta})`;
  }

  private emit(): void {
    this.sink(this.text());
  }
}
