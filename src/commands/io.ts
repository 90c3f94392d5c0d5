/** A stream a command writes to. */
export interface OutStream {
  write: (text: string) => unknown;
  isTTY?: boolean;
}

/**
 * Everything a command may touch of the outside world, passed in so the whole
 * CLI runs in-process in tests (only src/cli.ts touches `process`).
 */
export interface CommandIO {
  stdout: OutStream;
  stderr: OutStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborted on the first SIGINT/SIGTERM: stop gracefully and write what was measured. */
  signal: AbortSignal;
  /** Standard input, for a command given `-` as a file (`merge -`); opened only when called. */
  stdin?: () => AsyncIterable<Uint8Array | string> & { isTTY?: boolean };
  /**
   * Registers what to do, synchronously, when a second signal makes the
   * process exit at once (exit 130): e.g. relay it to a child process.
   */
  onForcedExit?: (hook: () => void) => void;
}
