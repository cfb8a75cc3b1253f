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
