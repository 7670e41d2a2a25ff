/** The exit codes of `oncelock`, documented in the README; scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** inspect or release found the key free, or it changed hands before the release. */
  notHeld: 1,
  /** Bad arguments, a bad URL, or a release without --force or confirmation. */
  usage: 2,
  /** The store could not be reached, refused us, or did not answer in time. */
  unreachable: 3,
  /** Anything else: a bug in oncelock, to be reported. */
  failed: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can act on: printed as one line, no stack, and exits with `code`. */
export class CliError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(EXIT.usage, message);
