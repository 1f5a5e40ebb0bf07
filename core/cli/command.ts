/** The shape of one CLI sub-command (`looktwice <name> …`); each lives in commands/<name>.ts. */
export interface CliIo {
  /** stdout: with --json exactly one JSON document goes here, nothing else. */
  stdout: NodeJS.WritableStream;
  /** stderr: progress bars, logs, warnings. */
  stderr: NodeJS.WritableStream;
  /** Fires on Ctrl-C (SIGINT/SIGTERM): commands stop at a safe point and leave the DB consistent. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  /** One line for `looktwice --help`. */
  summary: string;
  /** Full usage text for `looktwice <name> --help`. */
  usage: string;
  /** Returns the process exit code: 0 when the run completed (even if some files failed). */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
