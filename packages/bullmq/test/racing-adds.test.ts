import {
  type LockBackend,
  LockNotAcquiredError,
  type OnceJobOptions,
  onceQueue,
  type QueueConflict,
} from '@oncelock/bullmq';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Bench, queueName, type Scan, scanPolicy } from './support.js';

// Many producers add the same key at once, with no worker: every add but one is refused, and a
// refusal must name the job that holds the key. On PostgreSQL a refused insert can lose the
// race to a row its own statement cannot see (committed after the statement's snapshot); the
// adapter then has to look the holder up rather than report a refusal without one.

const ROUNDS = 30;
const PRODUCERS = 10;

const stores: Record<string, () => LockBackend> = {
  'postgres table mode': () => postgresBackend({ connectionString: postgresUrl, mode: 'table' }),
  'postgres advisory mode': () => postgresBackend({ connectionString: postgresUrl, mode: 'advisory' }),
  redis: () => redisBackend({ url: redisUrl }),
};

let open: { bench: Bench; backend: LockBackend } | undefined;
afterEach(async () => {
  await open?.bench.close();
  await open?.backend.close();
  open = undefined;
});

function setUp(store: () => LockBackend, label: string, extra: Partial<OnceJobOptions<Scan>>) {
  open = { bench: new Bench(), backend: store() };
  const queue = open.bench.queue(queueName(label));
  return onceQueue(queue, scanPolicy(open.backend, { mode: 'untilRunning', ...extra }));
}

describe.each(Object.entries(stores))('racing adds of one key, %s', (_name, store) => {
  // What every add but the first returns: its status, naming the one job that was added.
  const outcomes = { cancel: 'cancelled', replace: 'replaced', delay: 'delayed' } as const;

  it.each(Object.entries(outcomes))(
    "onConflict '%s': one job per round, every other add names it",
    async (onConflict, status) => {
      const scans = setUp(store, `race-${onConflict}`, { onConflict: onConflict as QueueConflict });
      // 'delay' postpones only a job that is delayed, so every job is added delayed.
      const opts = { delay: 60_000 };
      // Counted over all rounds rather than failing at the first, so a failure says how often.
      const unexpected: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const adds = Array.from({ length: PRODUCERS }, (_, n) =>
          scans.add('scan', { shard: round, n }, opts),
        );
        const results = (await Promise.all(adds)).map(
          (r) => `${r.status} ${r.status === 'cancelled' ? r.existingJobId : r.job.id}`,
        );
        const added = results.filter((r) => r.startsWith('added '));
        expect(added).toHaveLength(1);
        const id = added[0]?.slice('added '.length);
        unexpected.push(...results.filter((r) => r !== added[0] && r !== `${status} ${id}`));
      }
      expect(unexpected, `${unexpected.length} of ${ROUNDS * (PRODUCERS - 1)} refused adds`).toEqual([]);
      expect(await scans.queue.getDelayedCount()).toBe(ROUNDS);
    },
  );

  it("onConflict 'throw': every refusal's holder is the job that was added", async () => {
    const scans = setUp(store, 'race-throw', { onConflict: 'throw' });
    const wrong: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const adds = Array.from({ length: PRODUCERS }, (_, n) => scans.add('scan', { shard: round, n }));
      const settled = await Promise.allSettled(adds);
      const added = settled.flatMap((s) =>
        s.status === 'fulfilled' && s.value.status === 'added' ? [s.value] : [],
      );
      expect(added).toHaveLength(1);
      const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
      expect(errors).toHaveLength(PRODUCERS - 1);
      for (const error of errors) {
        expect(error).toBeInstanceOf(LockNotAcquiredError);
        const owner = (error as LockNotAcquiredError).holder?.owner;
        if (owner !== added[0]?.job.id) wrong.push(`holder ${owner}`);
      }
    }
    expect(wrong, `${wrong.length} of ${ROUNDS * (PRODUCERS - 1)} errors`).toEqual([]);
  });
});
