// rateLimitedProcessor in process, on the memory store: jobs over the rate are put back until
// their reserved slots, start there without asking again, and spend no attempt.
import {
  CapabilityUnsupportedError,
  InvalidArgumentError,
  type LockBackend,
  onceProcessor,
  type RateJobOptions,
  type RateProcessorFunction,
  type RateSlot,
  rateLimitedProcessor,
} from '@oncelock/bullmq';
import { redlockBackend } from '@oncelock/redis';
import { mostInWindow } from '@oncelock/testkit/history';
import { redisUrl } from '@oncelock/testkit/servers';
import type { Job, Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { type Bench, eachTest, queueName, until } from './support.js';

type Mail = { to: string; tenant?: string };

let bench: Bench;
let backend: LockBackend;
eachTest((b, m) => {
  bench = b;
  backend = m;
});

/** What the processor saw: each start's job, slot and the data it was given. */
interface Start {
  id: string;
  slot: RateSlot | undefined;
  data: unknown;
  attemptsMade: number;
  localMs: number;
}

function setUp(
  label: string,
  rate: Partial<RateJobOptions<Mail>['rate']>,
  fn: RateProcessorFunction<Mail, unknown, string> = async () => 'sent',
  concurrency = 8,
) {
  const name = queueName(label);
  const queue = bench.queue(name);
  const starts: Start[] = [];
  const processor = rateLimitedProcessor<Mail, unknown>(
    async (job, token, signal, slot) => {
      starts.push({
        id: job.id as string,
        slot,
        data: structuredClone(job.data),
        attemptsMade: job.attemptsMade,
        localMs: Date.now(),
      });
      return fn(job, token, signal, slot);
    },
    { backend, rate: { key: 'smtp', limit: 10, per: 200, ...rate } },
  );
  bench.worker(name, processor, { concurrency });
  return { queue: queue as Queue<Mail>, starts };
}

async function allCompleted(queue: Queue<Mail>, jobs: readonly Job[]): Promise<Job[]> {
  return until(
    async () => {
      const states = await Promise.all(jobs.map((j) => queue.getJobState(j.id as string)));
      if (!states.every((s) => s === 'completed')) return undefined;
      return Promise.all(jobs.map(async (j) => (await queue.getJob(j.id as string)) as Job));
    },
    20_000,
    `${jobs.length} jobs to complete`,
  );
}

const slotTimes = (starts: readonly Start[], key: string): number[] =>
  starts.flatMap((s) => (s.slot?.key === key ? [s.slot.at] : [])).sort((a, b) => a - b);

describe('rateLimitedProcessor', () => {
  it('refuses bad options before any round trip, and a backend that keeps no rates', async () => {
    const ok = { backend, rate: { key: 'k', limit: 5, per: 1000 } };
    const make = (options: unknown) => () =>
      rateLimitedProcessor(async () => 0, options as RateJobOptions<unknown>);
    expect(make(ok)).not.toThrow();
    for (const bad of [
      undefined,
      { backend },
      { backend, rate: { limit: 5, per: 1000 } },
      { backend, rate: { key: 'k', limit: 0, per: 1000 } },
      { backend, rate: { key: 'k', limit: 5, per: 0 } },
      { backend, rate: { key: 'k', limit: 5, per: 1000, burst: -1 } },
      { backend, rate: { key: 'k', limit: 5, per: 1000, wait: true } },
      { backend, rate: { key: 'k', limit: 5, per: 1000, kye: 'x' } },
      { backend: {}, rate: ok.rate },
      { ...ok, extra: 1 },
    ]) {
      expect(make(bad), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    }
    expect(make({ backend, rate: { key: 'k', limit: 5, per: 1000, kye: 'x' } })).toThrow(
      /did you mean "key"/,
    );
    expect(() => rateLimitedProcessor(0 as never, ok)).toThrow(InvalidArgumentError);
    const redlock = redlockBackend({ urls: [1, 2, 3].map((db) => `${redisUrl}/${db}`) });
    expect(make({ backend: redlock, rate: ok.rate })).toThrow(CapabilityUnsupportedError);
    await redlock.close();
  });

  it('puts jobs over the rate back until their reserved slots: starts paced, each job once, no attempt spent', async () => {
    const { queue, starts } = setUp('rate-paced', {});
    const jobs = await queue.addBulk(
      Array.from({ length: 30 }, (_, i) => ({ name: 'mail', data: { to: `u${i}` }, opts: { attempts: 3 } })),
    );
    const done = await allCompleted(queue, jobs);
    expect(starts).toHaveLength(30);
    expect(new Set(starts.map((s) => s.id)).size).toBe(30);
    // No start spent an attempt before it ran, and none saw the carried reservation.
    expect(starts.every((s) => s.attemptsMade === 0)).toBe(true);
    expect(done.every((j) => j.attemptsMade === 1)).toBe(true);
    expect(starts.every((s) => JSON.stringify(s.data).startsWith('{"to":'))).toBe(true);
    const slots = slotTimes(starts, 'smtp');
    expect(mostInWindow(slots, 200)).toBe(10);
    // Jobs over the rate waited in the delayed set for their slot, and started no earlier.
    const reserved = starts.filter((s) => s.slot?.reserved);
    expect(reserved.length).toBeGreaterThanOrEqual(20);
    // Slots are per / limit = 20 ms apart (the store's clock, with fractions).
    const gaps = slots.slice(1).map((t, i) => t - (slots[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThan(19.9);
  });

  it("onceProcessor's rate paces the guarded jobs the same way, before they claim", async () => {
    const name = queueName('rate-once');
    const queue = bench.queue(name) as Queue<Mail>;
    const slots: number[] = [];
    const guarded = onceProcessor<Mail, string>(async (job) => job.id as string, {
      backend,
      key: (_name, data) => data.to,
      mode: 'whileRunning',
      rate: { key: 'smtp-once', limit: 5, per: 200 },
    });
    bench.worker(
      name,
      async (job, token, signal) => {
        const result = await guarded(job, token, signal);
        slots.push(Date.now());
        return result;
      },
      { concurrency: 8 },
    );
    const jobs = await queue.addBulk(
      Array.from({ length: 15 }, (_, i) => ({ name: 'mail', data: { to: `u${i}` }, opts: { attempts: 2 } })),
    );
    const done = await allCompleted(queue, jobs);
    expect(done.map((j) => j.returnvalue)).toEqual(jobs.map((j) => j.id));
    expect(done.every((j) => j.attemptsMade === 1)).toBe(true);
    // 15 starts at 5 per 200 ms, evenly paced: the last starts at least 400 ms after the first.
    expect(Math.max(...slots) - Math.min(...slots)).toBeGreaterThanOrEqual(400);
    expect(() =>
      onceProcessor(async () => 0, {
        backend,
        key: 'k',
        rate: { key: 'k', limit: 0, per: 1 },
      } as never),
    ).toThrow(InvalidArgumentError);
  });

  it('keeps keys apart, and leaves a job whose key is null unpaced', async () => {
    const { queue, starts } = setUp('rate-keys', {
      key: (_name, data) => (data.tenant ? `mail:${data.tenant}` : null),
      limit: 2,
      per: 300,
      burst: 1,
    });
    const jobs = await queue.addBulk(
      ['a', 'a', 'a', 'a', 'b', 'b', undefined, undefined].map((tenant, i) => ({
        name: 'mail',
        data: { to: `u${i}`, ...(tenant && { tenant }) },
      })),
    );
    await allCompleted(queue, jobs);
    expect(slotTimes(starts, 'mail:a')).toHaveLength(4);
    // At most limit + burst in any window; fewer when a loaded machine fetches the jobs slowly.
    expect(mostInWindow(slotTimes(starts, 'mail:a'), 300)).toBeLessThanOrEqual(3);
    // b's two jobs start at once (1 + burst), whatever a's backlog.
    expect(starts.filter((s) => s.slot?.key === 'mail:b' && !s.slot.reserved)).toHaveLength(2);
    expect(starts.filter((s) => s.slot === undefined)).toHaveLength(2);
  });

  it('asks again on a retry: a reservation is used by one attempt only', async () => {
    let failed = false;
    const { queue, starts } = setUp('rate-retry', { limit: 1, per: 150 }, async (job, _t, _s, slot) => {
      // The first job that starts on a reserved slot fails once.
      if (slot?.reserved && !failed) {
        failed = true;
        throw new Error('smtp down');
      }
      return job.id;
    });
    const jobs = await queue.addBulk(
      Array.from({ length: 3 }, (_, i) => ({ name: 'mail', data: { to: `u${i}` }, opts: { attempts: 2 } })),
    );
    const done = await allCompleted(queue, jobs);
    expect(failed).toBe(true);
    // Four starts, each in a slot of its own: the retry did not reuse its failed attempt's slot.
    const slots = slotTimes(starts, 'smtp');
    expect(slots).toHaveLength(4);
    expect(new Set(slots).size).toBe(4);
    expect(mostInWindow(slots, 150)).toBe(1);
    expect(done.map((j) => j.attemptsMade).sort()).toEqual([1, 1, 2]);
  });

  it('sends a job promoted before its slot back until the slot', async () => {
    const { queue, starts } = setUp('rate-promoted', { limit: 1, per: 1_000 });
    const [first, second] = await queue.addBulk([
      { name: 'mail', data: { to: 'a' } },
      { name: 'mail', data: { to: 'b' } },
    ]);
    await until(async () => (await second?.getState()) === 'delayed' && starts.length === 1);
    const delayed = (await queue.getJob(second?.id as string)) as Job;
    // The reservation travels in the stored data while the job waits.
    const { due } = delayed.data['@oncelock/rate'] as { due: number };
    await delayed.promote();
    await allCompleted(queue, [first as Job, second as Job]);
    const late = starts.find((s) => s.id === second?.id) as Start;
    expect(late.slot?.reserved).toBe(true);
    expect(mostInWindow(slotTimes(starts, 'smtp'), 1_000)).toBe(1);
    expect(late.localMs).toBeGreaterThanOrEqual(due);
  });

  it('paces jobs whose data cannot carry a reservation without reserving', async () => {
    const name = queueName('rate-plain-data');
    const queue = bench.queue(name);
    const slots: number[] = [];
    bench.worker(
      name,
      rateLimitedProcessor<string, void>(
        async (_job, _token, _signal, slot) => {
          slots.push(slot?.at as number);
        },
        { backend, rate: { key: 'plain', limit: 2, per: 200 } },
      ),
    );
    const jobs = await queue.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'n', data: `text ${i}` })));
    await until(async () => {
      const states = await Promise.all(jobs.map((j) => j.getState()));
      return states.every((s) => s === 'completed');
    });
    expect(slots).toHaveLength(6);
    slots.sort((a, b) => a - b);
    expect(mostInWindow(slots, 200)).toBe(2);
    const stored = await Promise.all(jobs.map(async (j) => (await queue.getJob(j.id as string))?.data));
    expect(stored.every((d) => typeof d === 'string')).toBe(true);
  });
});
