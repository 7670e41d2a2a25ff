import { type OnceJobOptions, onceQueue } from '@oncelock/bullmq';
import { redisBackend } from '@oncelock/redis';
import { delay } from '@oncelock/testkit';
import { redisUrl } from '@oncelock/testkit/servers';
import { describe, expect, it } from 'vitest';
import {
  checkedHistory,
  childRunningAJob,
  type Report,
  reports,
  startWorkers,
  withRedisLocks,
  withWorkerProcesses,
} from './processes.js';
import { type Bench, queueName, until } from './support.js';

// Real queues, real worker processes, claims in Redis. Locks are short so that stalled jobs are
// found within a second: BullMQ's lockDuration 1 s, stalled checks every 300 ms, claim TTL 400 ms.
const fast = { concurrency: 2, lockDuration: 1_000, stalledInterval: 300 };
type Data = { key: string; steps: number; stepMs: number; store: string };

const t = withWorkerProcesses();
const locks = withRedisLocks();

const policyFor = (extra: Partial<OnceJobOptions<Data>>): OnceJobOptions<Data> => ({
  backend: locks.backend,
  key: (_name, data) => data.key,
  ttl: 400,
  retryDelay: 50,
  ...extra,
});
const remote = (p: OnceJobOptions<Data>) => ({
  mode: p.mode,
  onConflict: p.onConflict,
  ttl: p.ttl,
  retryDelay: p.retryDelay,
});

/** A queue, `n` worker processes running the policy, and the policy's add(). */
async function setUp(label: string, policy: OnceJobOptions<Data>, n: number) {
  const name = queueName(label);
  const queue = t.bench.queue(name);
  const lock = { kind: 'redis' as const, url: redisUrl };
  const children = await startWorkers(n, {
    queue: name,
    lock,
    policy: remote(policy),
    worker: fast,
    history: t.history,
  });
  return { name, queue, children, jobs: onceQueue(queue, policy) };
}

async function allFinished(queue: ReturnType<Bench['queue']>, count: number): Promise<void> {
  await until(
    async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) === count,
    20_000,
    `${count} jobs to finish`,
  );
}

describe('across worker processes (claims in Redis)', () => {
  it('one key, three workers: runs never overlap, and a SIGKILLed worker’s job runs again elsewhere', async () => {
    const { name, queue, children, jobs } = await setUp(
      'kill',
      policyFor({ mode: 'whileRunning', onConflict: 'delay' }),
      3,
    );
    const store = `${name}:store`;
    for (let i = 0; i < 8; i++)
      expect((await jobs.add('step', { key: 'k', steps: 4, stepMs: 40, store })).status).toBe('added');

    const victim = await childRunningAJob(children, 3);
    await delay(60);
    await victim.child.kill();
    await allFinished(queue, 8);

    const completed = await queue.getCompleted();
    expect(completed).toHaveLength(8);
    const rerun = completed.find((j) => j.id === victim.id);
    expect(rerun?.returnvalue.pid).not.toBe(victim.child.pid);
    const { fenced, unfenced } = checkedHistory(t.history);
    expect(unfenced.writeOverlaps).toEqual([]);
    expect(fenced.fenceRegressions).toEqual([]);
    expect(fenced.stats.accepted).toBeGreaterThanOrEqual(8 * 4);
    expect(await locks.backend.inspect(`${queue.qualifiedName}:k`)).toBeNull();
  });

  it('a frozen worker’s job runs elsewhere; the frozen worker stops writing when it wakes', async () => {
    const { name, queue, children, jobs } = await setUp(
      'freeze',
      policyFor({ mode: 'whileRunning', onConflict: 'delay' }),
      2,
    );
    const r = await jobs.add('step', { key: 'k', steps: 40, stepMs: 40, store: `${name}:store` });
    if (r.status !== 'added') expect.fail('add');

    const frozen = await childRunningAJob(children);
    await delay(120);
    frozen.child.freeze();
    const other = children.find((c) => c !== frozen.child);
    const takeover = (await other?.next(
      (m) => (m as Report).type === 'start' && (m as Report).id === r.job.id,
      15_000,
    )) as Report;
    frozen.child.thaw();
    const woke = (await frozen.child.next((m) => (m as Report).type === 'aborted', 10_000)) as Report;
    await allFinished(queue, 1);

    expect(woke.error).toBe('LockLostError');
    const first = reports([frozen.child], 'start')[0];
    expect(takeover.fence).toBeGreaterThan(first?.fence as number);
    expect((await queue.getJob(r.job.id as string))?.returnvalue.pid).toBe(other?.pid);
    const { fenced, unfenced } = checkedHistory(t.history);
    expect(unfenced.writeOverlaps).toEqual([]);
    expect(fenced.fenceRegressions).toEqual([]);
    expect(fenced.stats.workers).toBe(2);
  });

  it('untilDone: the claim stays with a job whose worker died, and ends when that job completes elsewhere', async () => {
    const { name, queue, children, jobs } = await setUp(
      'until-done-kill',
      policyFor({ mode: 'untilDone' }),
      2,
    );
    const data = { key: 'k', steps: 6, stepMs: 40, store: `${name}:store` };
    const first = await jobs.add('step', data);
    if (first.status !== 'added') expect.fail('add');

    const victim = await childRunningAJob(children);
    await victim.child.kill();
    // The dead worker's claim is still live for its job: the job is not lost, only stalled.
    expect(await jobs.add('step', data)).toMatchObject({ status: 'cancelled', existingJobId: first.job.id });
    await allFinished(queue, 1);
    const job = await queue.getJob(first.job.id as string);
    expect(job?.returnvalue.pid).not.toBe(victim.child.pid);
    expect(await locks.backend.inspect(`${queue.qualifiedName}:k`)).toBeNull();
    expect((await jobs.add('step', data)).status).toBe('added');
    await allFinished(queue, 2);
  });

  it('producers racing from three backends add exactly one job per key', async () => {
    const queue = t.bench.queue(queueName('race'));
    const producers = [
      redisBackend({ url: redisUrl }),
      redisBackend({ url: redisUrl }),
      redisBackend({ url: redisUrl }),
    ];
    try {
      for (const mode of ['untilDone', 'queuedAndRunning', 'untilRunning'] as const) {
        const data = { key: mode, steps: 0, stepMs: 0, store: '' };
        const results = await Promise.all(
          producers.flatMap((b) =>
            Array.from({ length: 10 }, () =>
              onceQueue(queue, { ...policyFor({ mode }), backend: b }).add('step', data),
            ),
          ),
        );
        const addedIds = results.flatMap((x) => (x.status === 'added' ? [x.job.id as string] : []));
        expect(addedIds).toHaveLength(1);
        expect(await queue.getWaitingCount()).toBe(1);
        // remove() gives the claims back, so none is left in Redis after the test.
        expect(await onceQueue(queue, policyFor({ mode })).remove(addedIds[0] as string)).toBe(true);
        expect(new Set(results.flatMap((x) => (x.status === 'cancelled' ? [x.existingJobId] : [])))).toEqual(
          new Set(addedIds),
        );
      }
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      await Promise.all(producers.map((b) => b.close()));
    }
  });

  it('the backlog drainer: two workers and a trigger every 15 ms take each item once, one batch at a time', async () => {
    const name = queueName('drain');
    const queue = t.bench.queue(name);
    const list = `${name}:backlog`;
    const done = `${name}:done`;
    const items = Array.from({ length: 60 }, (_, i) => String(i));
    await locks.redis.rpush(list, ...items);
    const drain = { batchSize: 5, list, done };
    const children = await startWorkers(2, {
      queue: name,
      lock: { kind: 'redis', url: redisUrl },
      policy: { ttl: 400, retryDelay: 50 },
      worker: fast,
      drain,
      history: t.history,
    });
    const trigger = onceQueue(queue, {
      backend: locks.backend,
      key: (n) => n,
      mode: 'queuedAndRunning',
      ttl: 400,
      retryDelay: 50,
    });
    let mostWaiting = 0;
    while ((await locks.redis.llen(done)) < items.length) {
      await trigger.add('backfill', {});
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
      mostWaiting = Math.max(
        mostWaiting,
        (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      );
      await delay(15);
    }
    await until(
      async () => (await queue.count()) + (await queue.getActiveCount()) === 0,
      10_000,
      'the queue to empty',
    );
    const taken = await locks.redis.lrange(done, 0, -1);
    await locks.redis.del(list, done);

    expect(taken.sort((a, b) => Number(a) - Number(b))).toEqual(items);

    expect(mostWaiting).toBe(1);
    expect(reports(children, 'batch').length).toBeGreaterThanOrEqual(12);
    const { fenced } = checkedHistory(t.history);
    expect(fenced.holdOverlaps).toEqual([]);
    expect(fenced.stats.workers).toBeGreaterThan(1);
  });
});
