// The self-requeueing batch drainer: at most one batch running and one
// waiting.
// #region in-process
import { randomUUID } from 'node:crypto';
import { type LockBackend, once } from '@oncelock/core';

export interface Outbox {
  /** Up to `limit` unsent messages, oldest first. */
  next(limit: number): Promise<string[]>;
  markSent(ids: string[]): Promise<void>;
}

// Call drain() whenever messages arrive. A call during a run becomes the
// one waiting run (it
// will see the new messages); further calls are cancelled, because that
// waiting run covers them.
export function makeDrain(backend: LockBackend, outbox: Outbox) {
  const guard = once(backend, {
    key: 'outbox:drain',
    mode: 'queuedAndRunning',
    ttl: 30_000,
  });
  return () =>
    guard.run(async ({ signal }) => {
      let sent = 0;
      for (
        let batch = await outbox.next(100);
        batch.length > 0;
        batch = await outbox.next(100)
      ) {
        signal.throwIfAborted();
        await outbox.markSent(batch);
        sent += batch.length;
      }
      return sent;
    });
}
// #endregion in-process

// #region queued
export interface JobQueue {
  add(jobId: string, options?: { delayMs?: number }): Promise<void>;
}

// A job drains one batch and, if more is left, enqueues its own
// successor. In untilDone mode
// the successor would be refused by the running job's own claim; here it
// takes the queued slot,
// which the running job gave up when it started.
export function drainerJobs(
  backend: LockBackend,
  outbox: Outbox,
  queue: JobQueue,
) {
  const guard = once(backend, {
    key: 'outbox:drain',
    mode: 'queuedAndRunning',
    ttl: 30_000,
  });

  async function enqueue(delayMs = 0): Promise<boolean> {
    const jobId = randomUUID();
    // one is already waiting
    if ((await guard.enqueue(jobId)).status !== 'claimed') return false;
    try {
      await queue.add(jobId, { delayMs });
      return true;
    } catch (error) {
      await guard.abandon(jobId);
      throw error;
    }
  }

  async function work(jobId: string): Promise<void> {
    const started = await guard.start(jobId);
    if (started.status === 'busy') {
      // The previous batch still runs: keep the queued slot and come back
      // later.
      await queue.add(jobId, { delayMs: 1_000 });
      return;
    }
    if (started.status !== 'started') return;
    try {
      const batch = await outbox.next(100);
      await outbox.markSent(batch);
      // more left: requeue ourselves
      if (batch.length === 100) await enqueue();
    } finally {
      await started.run.finish();
    }
  }

  return { enqueue, work };
}
// #endregion queued
