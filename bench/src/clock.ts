/**
 * Wall-clock milliseconds with sub-millisecond resolution. Timestamps from different processes on
 * one machine are comparable once each process's offset is calibrated (see `calibrate` in workers.ts):
 * `performance.timeOrigin` alone may be off by up to a millisecond between processes.
 */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Monotonic milliseconds, for durations inside one process. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
