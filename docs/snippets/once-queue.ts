// once() in a queue: the claim primitives, one per step of a job's life.
// #region queue
import { randomUUID } from 'node:crypto';
import { type LockBackend, once } from '@oncelock/core';

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

async function scanOrders(signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
}
