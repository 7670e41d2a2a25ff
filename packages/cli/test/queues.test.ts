import { randomUUID } from 'node:crypto';
import { redisConnection, redisUrl } from '@oncelock/testkit/servers';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { oncelock } from './run.js';

const connection = redisConnection();
let queues: Queue[] = [];
afterEach(async () => {
  for (const q of queues) {
    await q.obliterate({ force: true });
    await q.close();
  }
  queues = [];
});

/** A BullMQ prefix of the test's own, so discovery finds only its queues. */
const bullPrefix = () => `cli${randomUUID().slice(0, 8)}`;
const open = (name: string, prefix: string) => {
  const q = new Queue(name, { connection, prefix });
  queues.push(q);
  return q;
};

describe('oncelock queues (the built bin, as a child process)', () => {
  it('finds the queues under the prefix and reports jobs by state and the oldest waiting age', async () => {
    const prefix = bullPrefix();
    const mail = open('mail', prefix);
    const pdf = open('pdf-render', prefix);
    await mail.add('send', {}, { timestamp: Date.now() - 90_000 });
    await mail.add('send', {});
    await mail.add('send', {}, { delay: 60_000 });
    await pdf.add('render', {}, { priority: 3 });
    await pdf.pause();

    const run = await oncelock(['queues', redisUrl, '--bull-prefix', prefix, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const stats = JSON.parse(run.stdout) as Array<
      Record<string, unknown> & { counts: Record<string, number> }
    >;
    expect(
      stats.map((s) => [s.queue, s.isPaused, s.counts.waiting, s.counts.delayed, s.counts.prioritized]),
    ).toEqual([
      ['mail', false, 2, 1, 0],
      ['pdf-render', true, 0, 0, 1],
    ]);
    expect(stats[0]?.oldestWaitingAge).toBeGreaterThanOrEqual(90_000);
    expect(stats[1]?.oldestWaitingAge).toBeNull();

    const text = await oncelock(['queues', redisUrl, 'mail', '--bull-prefix', prefix]);
    expect(text.stdout).toMatch(/│ mail\s+│\s+2 │\s+0 │\s+1 │\s+0 │\s+0 │\s+0 │\s+0 │\s+0 │\s+1m 3\ds │/);
    expect(text.stdout).not.toContain('pdf');
  });

  it('looking at a queue that does not exist shows zeros and writes nothing', async () => {
    const prefix = bullPrefix();
    const run = await oncelock(['queues', redisUrl, 'ghost', '--bull-prefix', prefix, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject([
      { queue: 'ghost', isPaused: false, oldestWaitingAge: null },
    ]);
    const redis = new Redis(redisUrl);
    try {
      expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    const none = await oncelock(['queues', redisUrl, '--bull-prefix', prefix]);
    expect([none.code, none.stdout]).toEqual([0, `no BullMQ queues under "${prefix}:"\n`]);
  });
});
