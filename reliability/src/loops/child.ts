// What every loop worker process does first: report crashes to the parent, exit with it, and
// stop its loop on SIGTERM (the lab's end of a run), as the docs tell users to.

/** Sends `message` to the parent if the channel is still open. */
export const send = (message: unknown): void => {
  if (process.connected) process.send?.(message);
};

/**
 * Wires the process: a crash or an unhandled rejection is sent as `fatal` (a finding) and exits
 * 70; the parent going away exits 0; SIGTERM runs `stop` and then exits 0.
 */
export function childProcess(stop: () => Promise<unknown>): void {
  process.on('disconnect', () => process.exit(0));
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (error: unknown) => {
      send({ type: 'fatal', event, error: String((error as Error)?.stack ?? error) });
      process.exit(70);
    });
  }
  process.once('SIGTERM', () => {
    void stop().finally(() => process.exit(0));
  });
}
