import { type DrainOutcome, drainBacklog, InvalidArgumentError, type LockBackend } from '@oncelock/bullmq';
import { delay } from '@oncelock/testkit';
import { describe, expect, it } from 'vitest';
import { type Bench, eachTest, queueName, until } from './support.js';

let bench: Bench;
let backend: LockBackend;
eachTest((b, m) => {
  bench = b;
  backend = m;
});

/** A backlog of numbered items, and a record of which batches took which items, and when. */
function backlog(size: number) {
  const items = Array.from({ length: size }, (_, i) => i);
  const taken: number[] = [];
  let running = 0;
  let most = 0;
  return {
    items,
    taken,
    get most() {
      return most;
    },
    async take(n: number): Promise<number> {
      most = Math.max(most, ++running);
      try {
        const batch = items.splice(0, n);
        await delay(30);
        taken.push(...batch);
        return batch.length;
      } finally {
        running--;
      }
    },
  };
}

describe('drainBacklog', () => {
  it('chains batches: a full batch adds the next job at once, a short one ends the drain', async () => {
    const name = queueName('drain');
    const queue = bench.queue(name);
    const work = backlog(23);
    const drain = drainBacklog(queue, { backend, batchSize: 5, batch: (_job, size) => work.take(size) });
    bench.worker(name, drain.processor);
    const first = await drain.trigger('backfill', {});
    expect(first.status).toBe('added');
    await until(
      async () => work.taken.length === 23 && (await queue.getCompletedCount()) === 5,
      10_000,
      'the drain',
    );
    const outcomes = (await queue.getCompleted()).map((j) => j.returnvalue as DrainOutcome);
    expect(outcomes.map((o) => o.processed).sort()).toEqual([3, 5, 5, 5, 5]);
    expect(outcomes.filter((o) => o.next !== undefined)).toHaveLength(4);
    expect(work.taken).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(work.most).toBe(1);
    expect(await queue.count()).toBe(0);
  });

  it('a periodic trigger never adds a second waiting job, and never a second running one', async () => {
    const name = queueName('drain-trigger');
    const queue = bench.queue(name);
    const work = backlog(40);
    const drain = drainBacklog(queue, {
      backend,
      batchSize: 4,
      retryDelay: 50,
      batch: (_job, size) => work.take(size),
    });
    bench.worker(name, drain.processor, { concurrency: 3 });
    let mostWaiting = 0;
    const outcomes: string[] = [];
    const triggering = (async () => {
      while (work.taken.length < 40) {
        outcomes.push((await drain.trigger('backfill', {})).status);
        const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
        mostWaiting = Math.max(
          mostWaiting,
          (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
        );
        await delay(10);
      }
    })();
    await triggering;
    await until(
      async () => (await queue.count()) === 0 && (await queue.getActiveCount()) === 0,
      10_000,
      'the queue to empty',
    );
    expect(work.taken.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(work.most).toBe(1);
    expect(mostWaiting).toBe(1);
    expect(outcomes).toContain('cancelled');
  });

  it('refuses bad options before any round trip', () => {
    const queue = bench.queue(queueName('drain-bad'));
    const batch = async () => 0;
    expect(() => drainBacklog(queue, { backend, batchSize: 0, batch })).toThrow(InvalidArgumentError);
    expect(() => drainBacklog(queue, { backend, batchSize: 1.5, batch })).toThrow(InvalidArgumentError);
    expect(() => drainBacklog(queue, { backend, batchSize: 2, batch: 'no' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => drainBacklog(queue, { backend: null as never, batchSize: 2, batch })).toThrow(
      InvalidArgumentError,
    );
  });
});
