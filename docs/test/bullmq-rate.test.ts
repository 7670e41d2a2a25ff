// The BullMQ guide's "70 emails a second for the whole fleet" recipe, with real workers on the
// Redis the tests use.
import { randomUUID } from 'node:crypto';
import { redisBackend } from '@oncelock/redis';
import { redisConnection, redisUrl } from '@oncelock/testkit/servers';
import { Queue } from 'bullmq';
import { expect, it } from 'vitest';
import { mailWorker } from '../snippets/bullmq-rate.js';

it('sends every mail once, the ones past 70 in a second put back for their slots, across two workers', async () => {
  const name = `docs-rate-${randomUUID().slice(0, 8)}`;
  const connection = redisConnection();
  const backends = [redisBackend({ url: redisUrl }), redisBackend({ url: redisUrl })];
  const queue = new Queue(name, { connection });
  const sent: string[] = [];
  const workers = backends.map((b) =>
    mailWorker(name, connection, b, async (mail) => {
      sent.push(mail.to);
    }),
  );
  try {
    const to = Array.from({ length: 100 }, (_, i) => `user${i}@example.com`);
    const jobs = await queue.addBulk(
      to.map((t) => ({ name: 'mail', data: { to: t, subject: 'hi', body: '' } })),
    );
    const deadline = performance.now() + 20_000;
    while (sent.length < to.length && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sent.sort()).toEqual(to.sort());
    // Past the first mails, each was put back to wait for its slot (a second start), and none
    // spent an attempt doing so.
    const done = await Promise.all(jobs.map((j) => queue.getJob(j.id as string)));
    expect(done.every((j) => j?.attemptsMade === 1)).toBe(true);
    expect(done.filter((j) => j?.attemptsStarted === 2).length).toBeGreaterThan(90);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.obliterate({ force: true });
    await queue.close();
    await Promise.all(backends.map((b) => b.close()));
  }
}, 40_000);
