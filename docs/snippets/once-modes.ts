// once(): the four modes around a plain async function, and the claim
// primitives a queue uses.
import { randomUUID } from 'node:crypto';
import { type LockBackend, once } from '@oncelock/core';

// #region run
export async function nightlyRollup(backend: LockBackend, day: string) {
  const guard = once(backend, {
    key: `rollup:${day}`,
    mode: 'whileRunning',
    ttl: 30_000,
  });
  const result = await guard.run(async ({ signal }) => {
    signal.throwIfAborted(); // aborts if the running claim is lost
    return summarise(day);
  });
  // another process runs it right now
  if (result.status === 'cancelled') return null;
  return result.value;
}
// #endregion run

// #region conflicts
export function guards(backend: LockBackend) {
  return {
    // The default: a duplicate resolves { status: 'cancelled', reason:
    // 'locked' }.
    skip: once(backend, { key: 'sync', mode: 'whileRunning' }),
    // A duplicate throws LockNotAcquiredError (code
    // ONCELOCK_NOT_ACQUIRED).
    fail: once(backend, {
      key: 'sync',
      mode: 'whileRunning',
      onConflict: 'throw',
    }),
    // A duplicate waits up to 20 s for its turn, then throws
    // WaitTimeoutError.
    queue: once(backend, {
      key: 'sync',
      mode: 'whileRunning',
      onConflict: 'wait',
      wait: 20_000,
    }),
  };
}
// #endregion conflicts

// #region queue
/**
 * The smallest queue shape: enough to show where each claim call goes.
 */
export interface JobQueue {
  add(jobId: string): Promise<void>;
  remove(jobId: string): Promise<void>;
}

export function scanJobs(backend: LockBackend, queue: JobQueue) {
  // untilDone: at most one scan queued or running at any moment.
  const guard = once(backend, {
    key: 'orders:scan',
    mode: 'untilDone',
    ttl: 30_000,
    queuedTtl: 3_600_000,
  });

  async function schedule(): Promise<string | null> {
    const jobId = randomUUID();
    // the claim's owner is the job id
    const claim = await guard.enqueue(jobId);
    // one is already queued or running
    if (claim.status === 'cancelled') return null;
    try {
      await queue.add(jobId);
      return jobId;
    } catch (error) {
      // never leave a claim for a job that does not exist
      await guard.abandon(jobId);
      throw error;
    }
  }

  async function work(jobId: string): Promise<void> {
    // adopts the claim made at enqueue time
    const started = await guard.start(jobId);
    // cancelled (or busy, in queuedAndRunning)
    if (started.status !== 'started') return;
    try {
      await scanOrders(started.run.signal);
    } finally {
      await started.run.finish(); // the next schedule() may now enqueue
    }
  }

  return { schedule, work };
}
// #endregion queue

async function summarise(day: string): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return day.length;
}
async function scanOrders(signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
}
