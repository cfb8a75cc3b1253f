/**
 * The three ways a run can end badly, each with its own exit code (design.md "Exit codes").
 * Messages are one line, name the bad value and say the fix; they never carry a secret. Callers
 * that must tell failures apart read `kind` (and a Node `code`), never the message.
 */

/** What is wrong with the input, for callers that branch on it. */
export type UsageErrorKind = 'input' | 'untrusted-entry';

/** Bad usage or bad input: nothing was written and nothing was started. Exit 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly kind: UsageErrorKind = 'input',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * What kind of runtime failure. `io`: a file or record could not be read or written (the Node
 * code is in `code`); `address-in-use`: the listen address is taken; `lock-held`: another run holds
 * the sandbox; `not-found`: the server binary is not there; `other`: the message says it all.
 */
export type StepErrorKind = 'io' | 'address-in-use' | 'lock-held' | 'not-found' | 'other';

/** A runtime step or check failed. Exit 1. `step` names where, `fix` says the way out. */
export class StepError extends Error {
  readonly exitCode = 1;
  readonly kind: StepErrorKind;
  /** The Node error code behind an `io` failure (ENOSPC, EACCES, ...). */
  readonly code?: string;
  constructor(
    readonly step: string,
    message: string,
    readonly fix?: string,
    opts: { kind?: StepErrorKind; code?: string } = {},
  ) {
    super(message);
    this.name = 'StepError';
    this.kind = opts.kind ?? 'other';
    if (opts.code !== undefined) this.code = opts.code;
  }
}

/** The user interrupted (Ctrl-C at a prompt or SIGINT). Exit 130. */
export class Cancelled extends Error {
  readonly exitCode = 130;
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'Cancelled';
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof StepError || err instanceof Cancelled) return err.exitCode;
  return 1;
}

/** A Node error's code, when it has one. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

const WRITE_REASON: Record<string, string> = {
  ENOSPC: 'the disk is full (no space or no inodes left)',
  EDQUOT: 'the disk quota is used up',
  EISDIR: 'a directory is in the way',
  ENOTDIR: 'a file is in the way of its directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
};

/** A write that failed, as the step's error: what could not be written, why, and the way out. Our own errors pass through. */
export function writeFailure(step: string, path: string, e: unknown): StepError | UsageError {
  if (e instanceof StepError || e instanceof UsageError) return e;
  const code = errnoOf(e);
  const why = (code && WRITE_REASON[code]) ?? (e as Error).message;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new StepError(
    step,
    `cannot write ${path}: ${why}`,
    full ? 'free some space, then rerun' : `make ${path} writable (or remove what is in the way), then rerun`,
    { kind: 'io', code },
  );
}

/**
 * A file-system failure that escaped a step (a Node error with a code and a path), as that step's
 * error with the way out; anything else is returned as it is.
 */
export function asStepFailure(step: string, e: unknown): unknown {
  const code = errnoOf(e);
  const path = (e as NodeJS.ErrnoException | undefined)?.path;
  if (e instanceof StepError || e instanceof UsageError || !code || !WRITE_REASON[code] || !path) return e;
  return writeFailure(step, path, e);
}
