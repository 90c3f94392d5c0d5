/**
 * The one place exit codes are defined. docs/exit-codes.md lists them and a
 * test checks that code and docs agree both ways.
 */
export const ExitCode = {
  /** Ran, every threshold passed. */
  ok: 0,
  /** Internal error (a bug). */
  internal: 1,
  /** Usage error (bad flags or arguments). */
  usage: 2,
  /** Invalid scenario or input file. */
  invalidInput: 3,
  /** Thresholds or regression gate failed. */
  thresholdsFailed: 4,
  /** Aborted by a signal; partial results were written. */
  aborted: 5,
  /** Target unreachable before the run started (no connection, or a failed TLS handshake). */
  unreachable: 6,
  /** The reference stack could not start (database unreachable, embedded PostgreSQL or a worker failed), or `capacity` could not resize the target. */
  stackFailed: 7,
  /** The command did its work and its verdict was a success, but an output file could not be written (disk full, folder gone). */
  outputFailed: 8,
  /** `import`: the scenario was written, but some constructs of the script were not translated (listed on stderr). */
  importIncomplete: 9,
  /** `run --shard --start-at barrier:...`: not every shard reached the start barrier within --barrier-timeout; no load was sent. */
  shardsNotStarted: 10,
  /** A second signal arrived while stopping: exited at once, nothing more written. */
  forcedExit: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the user can act on: printed as one line, no stack trace, and
 * mapped to an exit code. Anything else that escapes a command is a bug (exit 1).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Bad flags or arguments: exit 2. */
export function usageError(message: string): UserError {
  return new UserError(message, ExitCode.usage);
}

/** A scenario or input file that cannot be used: exit 3. */
export function inputError(message: string): UserError {
  return new UserError(message, ExitCode.invalidInput);
}
