import { type LockBackend, once } from '@oncelock/core';
import { type Arm, type ArmContext, jobIds, runBatchJob } from './arm.js';

/** The once-key of the backfill: one drainer for the whole table. */
export const BACKFILL_KEY = 'audit-log-backfill';

/**
 * oncelock's `queuedAndRunning`: at most one job waits and one runs. The trigger's enqueue is
 * skipped while a job waits; a job that finds its predecessor still running is put back with
 * a short delay (it keeps its place); a running job can always queue its successor, because
 * it gave up the queued slot when it started.
 */
export function oncelockArm(ctx: ArmContext, backend: LockBackend, maxRetryMs: number): Arm {
  const guard = once(backend, { key: BACKFILL_KEY, mode: 'queuedAndRunning', ttl: 10_000 });
  const nextId = jobIds('oncelock');
  const busyTimes = new Map<string, number>();
  // A job that just missed its predecessor's end is retried at once; one stuck behind a long
  // batch backs off, so that waiting costs a few round trips and not hundreds.
  const retryDelay = (id: string) => {
    const n = (busyTimes.get(id) ?? 0) + 1;
    busyTimes.set(id, n);
    return Math.min(maxRetryMs, 2 ** n);
  };

  /** Claims the queued slot for a new job and queues it; else resolves the id of the job that holds it. */
  async function offer(): Promise<{ added: true } | { added: false; waiting?: string }> {
    const id = nextId();
    const claim = await guard.enqueue(id);
    if (claim.status !== 'claimed') return { added: false, waiting: claim.holder?.owner };
    try {
      await ctx.add(id);
    } catch (error) {
      await guard.abandon(id); // never leave a claim for a job that is not on the queue
      throw error;
    }
    return { added: true };
  }

  return {
    name: 'oncelock',
    trigger: async () => (await offer()).added,
    async process(id) {
      const start = await guard.start(id);
      if (start.status === 'busy') {
        ctx.report({ processed: [], outcome: 'busy' });
        return { retryInMs: retryDelay(id) };
      }
      busyTimes.delete(id);
      if (start.status !== 'started') return undefined; // another job holds the claim: nothing to do
      let successor: Awaited<ReturnType<typeof offer>> | undefined;
      try {
        // The successor is queued while this job still holds the running slot: it waits its turn.
        if (await runBatchJob(ctx)) successor = await offer();
      } finally {
        await start.run.finish();
      }
      // A job already held the queued slot and is backing off: its turn is now, not after its delay.
      if (successor && !successor.added && successor.waiting) await ctx.promote(successor.waiting);
      return undefined;
    },
  };
}
