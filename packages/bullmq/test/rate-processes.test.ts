// rateLimitedProcessor across worker processes, rates kept in Redis or PostgreSQL: the starts of
// one key, stamped with their slots on the store's clock, never exceed limit + burst in any
// window; jobs over the rate wait for their reserved slots and spend no attempt; other keys are
// not held up.
import { type Worker as Child, spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import { mostInWindow } from '@oncelock/testkit/history';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';
import type { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bench, queueName, until } from './support.js';

const script = new URL('./fixtures/rate-worker.mjs', import.meta.url);

interface Start {
  type: 'start';
  id: string;
  key: string;
  at: number;
  reserved: boolean;
  attemptsMade: number;
  pid: number;
}
interface Due {
  type: 'due';
  id: string;
  due: number;
  started: number;
}

let bench: Bench;
beforeEach(() => {
  bench = new Bench();
});
afterEach(async () => {
  await stopAllWorkers();
  await bench.close();
});

const api = { limit: 20, per: 500, burst: 2 };
// The other key's burst covers all its jobs: none of them waits, whatever the api key's backlog.
const other = { limit: 20, per: 500, burst: 20 };

const stores = [
  { name: 'Redis', lock: { kind: 'redis', url: redisUrl } },
  { name: 'PostgreSQL', lock: { kind: 'postgres', connectionString: postgresUrl } },
] as const;

describe.each(stores)('rate across worker processes (rates in $name)', ({ lock }) => {
  it('4 processes: starts of a key within limit + burst in every window, attempts unspent, the other key unaffected', async () => {
    const name = queueName('rate-procs');
    const queue = bench.queue(name) as Queue<{ key: string; workMs: number }>;
    const config = { queue: name, lock, rates: { [`${name}:api`]: api, [`${name}:other`]: other } };
    const children: Child[] = Array.from({ length: 4 }, () =>
      spawnWorker(script, [JSON.stringify({ ...config, worker: { concurrency: 4 } })]),
    );
    await Promise.all(children.map((c) => c.next((m) => (m as { type: string }).type === 'ready', 20_000)));

    const jobs = await queue.addBulk([
      ...Array.from({ length: 80 }, () => ({ name: 'call', data: { key: `${name}:api`, workMs: 5 } })),
      ...Array.from({ length: 20 }, () => ({ name: 'call', data: { key: `${name}:other`, workMs: 5 } })),
    ]);
    await until(
      async () => (await queue.getCompletedCount()) === jobs.length,
      30_000,
      `${jobs.length} jobs to complete`,
    );
    const messages = children.flatMap((c) => c.messages as (Start | Due | { type: string })[]);
    const starts = messages.filter((m): m is Start => m.type === 'start');
    expect(messages.filter((m) => m.type === 'worker-error')).toEqual([]);

    // Each job started once, on its first attempt, and completed with that one attempt.
    expect(starts).toHaveLength(jobs.length);
    expect(new Set(starts.map((s) => s.id)).size).toBe(jobs.length);
    expect(starts.every((s) => s.attemptsMade === 0)).toBe(true);
    const done = await Promise.all(jobs.map((j) => queue.getJob(j.id as string)));
    expect(done.every((j) => j?.attemptsMade === 1)).toBe(true);
    // More than one process ran the key's jobs.
    const apiStarts = starts.filter((s) => s.key === `${name}:api`);
    expect(new Set(apiStarts.map((s) => s.pid)).size).toBeGreaterThan(1);

    // The slots, on the store's clock: never more than limit + burst in a window of `per`, and
    // the backlog filled the windows.
    const slots = apiStarts.map((s) => s.at).sort((a, b) => a - b);
    expect(mostInWindow(slots, api.per)).toBe(api.limit + api.burst);
    // Most jobs waited for a reserved slot, and none started before its due time.
    const reserved = apiStarts.filter((s) => s.reserved);
    expect(reserved.length).toBeGreaterThanOrEqual(80 - api.limit - api.burst);
    const dues = messages.filter((m): m is Due => m.type === 'due');
    for (const s of reserved) {
      const due = dues.find((d) => d.id === s.id);
      expect(due, `job ${s.id} carried its reservation`).toBeDefined();
      expect(due?.started).toBeGreaterThanOrEqual(due?.due as number);
    }
    // The other key's jobs started at once, in its own rate.
    const otherStarts = starts.filter((s) => s.key === `${name}:other`);
    expect(otherStarts).toHaveLength(20);
    expect(otherStarts.filter((s) => s.reserved)).toEqual([]);
  });
});
