import type { Job } from 'bullmq';

// What BullMQ does with a job after its processor throws, as far as a claim cares: the job either
// comes back (a retry, or the processor moved it to delayed, waiting or waiting-children), or it
// has failed for good.

/** Errors by which a processor hands its job back to the queue; BullMQ does not fail the job. */
const handBack = new Set(['DelayedError', 'WaitingError', 'WaitingChildrenError', 'RateLimitError']);
const RATE_LIMIT_MESSAGE = 'bullmq:rateLimitExceeded';

function named(error: unknown): { name?: unknown; message?: unknown } {
  return error !== null && typeof error === 'object' ? (error as { name?: unknown; message?: unknown }) : {};
}

/**
 * True if `error`, thrown by the processor of `job`, ends the job for good: BullMQ's own test
 * (attempts left, `UnrecoverableError`). A custom backoff that gives up, or a worker's
 * `maxStartedAttempts`, is not seen here; such a job's claim is found stale later (its job has
 * failed) or lapses at `queuedTtl`.
 */
export function failsForGood(job: Job, error: unknown): boolean {
  const e = named(error);
  if ((typeof e.name === 'string' && handBack.has(e.name)) || e.message === RATE_LIMIT_MESSAGE) return false;
  if (e.name === 'UnrecoverableError') return true;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
