import { BackendUnavailableError, InvalidArgumentError, QUEUE_STATES, queueStats } from '@oncelock/bullmq';
import { startTcpProxy } from '@oncelock/testkit/faults';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { type Bench, connection, eachTest, gate, queueName, until } from './support.js';

let bench: Bench;
eachTest((b) => {
  bench = b;
});

describe('queueStats', () => {
  it('an empty queue: every count 0, no oldest job', async () => {
    const stats = await queueStats(bench.queue(queueName('stats-empty')));
    expect(stats).toEqual({
      counts: Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])),
      isPaused: false,
      oldestWaitingAge: null,
      oldestWaitingId: null,
    });
  });

  it('counts waiting, delayed and prioritized jobs, and ages the oldest waiting one', async () => {
    const queue = bench.queue(queueName('stats-waiting'));
    const oldest = await queue.add('scan', {}, { timestamp: Date.now() - 60_000 });
    await queue.add('scan', {});
    await queue.add('scan', {});
    await queue.add('later', {}, { delay: 60_000 });
    await queue.add('urgent', {}, { priority: 1 });
    const stats = await queueStats(queue);
    expect(stats.counts).toMatchObject({ waiting: 3, delayed: 1, prioritized: 1, active: 0 });
    expect(stats.oldestWaitingId).toBe(oldest.id);
    expect(stats.oldestWaitingAge).toBeGreaterThanOrEqual(59_000);
    expect(stats.oldestWaitingAge).toBeLessThan(70_000);
    // The counts are BullMQ's own.
    expect(stats.counts).toMatchObject(await queue.getJobCounts());

    await queue.pause();
    expect(await queueStats(queue)).toMatchObject({ isPaused: true, counts: { waiting: 3 } });
  });

  it('counts active, completed and failed jobs as BullMQ does', async () => {
    const name = queueName('stats-worked');
    const queue = bench.queue(name);
    const held = gate();
    bench.worker(name, async (job) => {
      if (job.name === 'bad') throw new Error('fails on purpose');
      if (job.name === 'hold') await held.promise;
    });
    await queue.addBulk([
      { name: 'ok', data: {} },
      { name: 'bad', data: {} },
      { name: 'hold', data: {} },
    ]);
    const stats = await until(async () => {
      const s = await queueStats(queue);
      return s.counts.completed === 1 && s.counts.failed === 1 && s.counts.active === 1 && s;
    });
    expect(stats.counts).toEqual({ ...(await queue.getJobCounts()), paused: 0 });
    expect(stats.oldestWaitingAge).toBeNull();
    held.open();
  });

  it('a Redis that stops answering fails with BackendUnavailableError at the timeout', async () => {
    const proxy = await startTcpProxy({ targetPort: connection.port });
    const queue = new Queue(queueName('stats-stuck'), {
      connection: { host: '127.0.0.1', port: proxy.port },
    });
    try {
      await queue.waitUntilReady();
      proxy.blackhole(true);
      const started = performance.now();
      const error = await queueStats(queue, { timeout: 200 }).catch((e: unknown) => e);
      const took = performance.now() - started;
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toMatch(/^\[@oncelock\/bullmq\] .*within 200 ms/);
      expect(took).toBeGreaterThanOrEqual(195);
      expect(took).toBeLessThan(1_000);
    } finally {
      proxy.blackhole(false);
      await queue.obliterate({ force: true });
      await queue.close();
      await proxy.close();
    }
  });

  it('refuses a timeout that is not a positive number before any round trip', async () => {
    const queue = bench.queue(queueName('stats-bad'));
    for (const timeout of [0, -1, Number.NaN]) {
      await expect(queueStats(queue, { timeout })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});
