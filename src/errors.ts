/**
 * The three ways a run can end badly, each with its own exit code (design.md "Exit codes").
 * Messages are one line, name the bad value and say the fix; they never carry a secret.
 */

/** Bad usage or bad input: nothing was written and nothing was started. Exit 2. */
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
 * A runtime step or check failed. Exit 1. `step` names where, `fix` says the way out; `details` are
 * lines shown under the message when one line cannot say it (the end of a failed task's log).
 */
export class StepError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly step: string,
    message: string,
    readonly fix?: string,
    readonly details?: string[],
  ) {
    super(message);
    this.name = 'StepError';
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
