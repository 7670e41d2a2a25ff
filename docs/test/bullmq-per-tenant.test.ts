// The BullMQ guide's "at most 5 per tenant" recipe, with real workers on the Redis the tests use.
import { randomUUID } from 'node:crypto';
import { redisBackend } from '@oncelock/redis';
import { redisConnection, redisUrl } from '@oncelock/testkit/servers';
import { Queue } from 'bullmq';
import { expect, it } from 'vitest';
import { syncQueue, syncWorker } from '../snippets/bullmq-per-tenant.js';

it('runs every job once, never more than 5 of a tenant at once, across two workers', async () => {
  const name = `docs-per-tenant-${randomUUID().slice(0, 8)}`;
  const connection = redisConnection();
  const backends = [redisBackend({ url: redisUrl }), redisBackend({ url: redisUrl })];
  const queue = new Queue(name, { connection });
  const running = new Map<string, number>();
  const most = new Map<string, number>();
  const ran: string[] = [];
  const sync = async (data: { tenant: string; since: string }) => {
    const now = (running.get(data.tenant) ?? 0) + 1;
    running.set(data.tenant, now);
    most.set(data.tenant, Math.max(most.get(data.tenant) ?? 0, now));
    await new Promise((resolve) => setTimeout(resolve, 200));
    running.set(data.tenant, (running.get(data.tenant) ?? 1) - 1);
    ran.push(`${data.tenant}:${data.since}`);
  };
  // Two workers of 20 slots each, each with its own connection to the claims.
  const workers = backends.map((b) => syncWorker(name, connection, b, sync));
  try {
    const add = syncQueue(queue, backends[0]!);
    const expected: string[] = [];
    for (let i = 0; i < 12; i++) {
      for (const tenant of ['acme', 'globex']) {
        await add({ tenant, since: String(i) });
        expected.push(`${tenant}:${i}`);
      }
    }
    // retryDelay is 30 s: the jobs put back come back when a permit frees.
    const deadline = performance.now() + 25_000;
    while (ran.length < expected.length && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(ran.sort()).toEqual(expected.sort());
    // At most 5 of a tenant ran at once, and jobs of a tenant did run together.
    expect(Math.max(...most.values())).toBeLessThanOrEqual(5);
    expect(Math.max(...most.values())).toBeGreaterThan(1);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.obliterate({ force: true });
    await queue.close();
    await Promise.all(backends.map((b) => b.close()));
  }
}, 40_000);
