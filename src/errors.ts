/**
 * The three ways a run can end badly, each with its own exit code (design.md "Exit codes").
 * Messages are one line, name the bad value and say the fix; they never carry a secret. Callers
 * that must tell failures apart read `kind` (and a Node `code`), never the message.
 */

/** Bad usage or bad input: nothing was written and nothing was started. Exit 2. A file's problems carry a kind (FileError). */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * What is wrong with a file or directory the tool was asked to read, write or trust (src/io/).
 * `missing`: absent; `not-regular`: a FIFO, device, socket or directory where a file belongs (or a
 * file where a dir belongs); `too-large`: over the cap of what this tool reads; `unreadable`: the OS
 * refused (EACCES, EIO, ...); `foreign-owner`: owned by another user; `symlink`: a link where none may
 * be; `unsafe-mode`: writable by group or others; `unsafe-link`: a link leaving the sandbox that was
 * not there when it was created.
 */
export type FileErrorKind =
  | 'missing'
  | 'not-regular'
  | 'too-large'
  | 'unreadable'
  | 'foreign-owner'
  | 'symlink'
  | 'unsafe-mode'
  | 'unsafe-link';

/**
 * A file the tool refuses or cannot read: bad input (exit 2). The message names the path, the
 * problem and the way out, never the file's content. `code` is the Node error code when the OS said no.
 */
export class FileError extends UsageError {
  /** The Node error code when the OS refused (EACCES, ELOOP, ...). */
  readonly code?: string;
  /** What is wrong, without the path or the fix: `is a FIFO (named pipe), not a regular file`. */
  readonly problem: string;
  constructor(
    readonly kind: FileErrorKind,
    readonly path: string,
    message: string,
    detail: { code?: string; problem?: string } = {},
  ) {
    super(message);
    this.name = 'FileError';
    this.code = detail.code;
    this.problem = detail.problem ?? message;
  }
}

/**
 * What kind of runtime failure. `io`: a file or record could not be read or written (the Node
 * code is in `code`); `address-in-use`: the listen address is taken; `lock-held`: another run holds
 * the sandbox; `not-found`: the server binary is not there; `other`: the message says it all.
 */
export type StepErrorKind = 'io' | 'address-in-use' | 'lock-held' | 'not-found' | 'other';

/**
 * A runtime step or check failed. Exit 1. `step` names where, `fix` says the way out; `details` are
 * lines shown under the message when one line cannot say it (the end of a failed task's log).
 */
export class StepError extends Error {
  readonly exitCode = 1;
  readonly kind: StepErrorKind;
  /** The Node error code behind an `io` failure (ENOSPC, EACCES, ...). */
  readonly code?: string;
  /** Files the message or the fix sends the user to: a clean-up after the failure keeps them. */
  readonly files: readonly string[];
  readonly details?: string[];
  constructor(
    readonly step: string,
    message: string,
    readonly fix?: string,
    opts: { kind?: StepErrorKind; code?: string; files?: string[]; details?: string[] } = {},
  ) {
    super(message);
    this.name = 'StepError';
    this.kind = opts.kind ?? 'other';
    if (opts.code !== undefined) this.code = opts.code;
    this.files = opts.files ?? [];
    if (opts.details?.length) this.details = opts.details;
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
  // A file the reader refused (a FIFO, another user's) stays bad input; a directory in the way is this step's failure.
  const inTheWay = e instanceof FileError && e.code === 'EISDIR';
  if (e instanceof StepError || (e instanceof UsageError && !inTheWay)) return e;
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
 * A Node error of an fd call (fchmod, write, fsync name no path) given the path it was about, so
 * that it reaches the user as the step's failure naming the file (asStepFailure), not as an
 * unexpected error. Returns `e` itself.
 */
export function withPath(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException | null;
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.path === undefined) err.path = path;
  return e;
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
