// whileRunning with `limit`: at most N jobs of a key run at once across worker processes, the
// jobs over the limit are put back without spending an attempt, and a freed permit wakes them.
import {
  CapabilityUnsupportedError,
  InvalidArgumentError,
  type LockBackend,
  memoryBackend,
  type OnceJobOptions,
  onceProcessor,
  onceQueue,
} from '@oncelock/bullmq';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend, redlockBackend } from '@oncelock/redis';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reports, startWorkers, type WorkerConfig, withWorkerProcesses } from './processes.js';
import { Bench, connection, gate, queueName, until } from './support.js';

type Data = { key: string; steps: number; stepMs: number; store: string; gauge: string };

describe('the limit option', () => {
  const bench = new Bench();
  const backend = memoryBackend();
  afterAll(() => bench.close());
  const policy = (extra: Partial<OnceJobOptions<Data>>): OnceJobOptions<Data> => ({
    backend,
    key: (_name, data) => data.key,
    ...extra,
  });

  it('is refused outside whileRunning, and by a backend that cannot serve it', () => {
    const queue = bench.queue(queueName('limit-options'));
    for (const mode of ['untilDone', 'untilRunning', 'queuedAndRunning'] as const) {
      expect(() => onceQueue(queue, policy({ mode, limit: 3 }))).toThrow(
        /limit counts running jobs, so it needs mode 'whileRunning'/,
      );
      expect(() => onceProcessor(async () => 0, policy({ mode, limit: 3 }))).toThrow(InvalidArgumentError);
    }
    // limit 1 is the default, in every mode.
    expect(() => onceQueue(queue, policy({ mode: 'untilDone', limit: 1 }))).not.toThrow();
    expect(() => onceQueue(queue, policy({ mode: 'whileRunning', limit: 0 }))).toThrow(InvalidArgumentError);
    const redlock = redlockBackend({ urls: [1, 2, 3].map((db) => `${redisUrl}/${db}`) });
    expect(() =>
      onceProcessor(async () => 0, { ...policy({ mode: 'whileRunning', limit: 3 }), backend: redlock }),
    ).toThrow(CapabilityUnsupportedError);
    return redlock.close();
  });

  it('with onConflict cancel, a job over the limit completes as cancelled, naming a holder', async () => {
    const name = queueName('limit-cancel');
    const queue = bench.queue(name);
    const open = gate();
    const started: string[] = [];
    const p = policy({ mode: 'whileRunning', limit: 2 });
    bench.worker(
      name,
      onceProcessor(async (job) => {
        started.push(job.id as string);
        await open.promise;
        return 'ran';
      }, p),
      { concurrency: 3 },
    );
    const jobs = onceQueue(queue, p);
    const added: Job[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await jobs.add('work', { key: 'k', steps: 0, stepMs: 0, store: '', gauge: '' });
      if (r.status === 'added') added.push(r.job as Job);
    }
    const done = await until(async () => {
      const states = await Promise.all(added.map((j) => j.getState()));
      return states.filter((s) => s === 'completed').length === 1 && states;
    });
    expect(done.filter((s) => s === 'active')).toHaveLength(2);
    open.open();
    await until(async () =>
      (await Promise.all(added.map((j) => j.getState()))).every((s) => s === 'completed'),
    );
    const values = await Promise.all(
      added.map(async (j) => (await queue.getJob(j.id as string))?.returnvalue),
    );
    expect(values.filter((v) => v === 'ran')).toHaveLength(2);
    const refused = values.find((v) => v !== 'ran');
    expect(refused).toMatchObject({ status: 'cancelled', reason: 'locked' });
    expect(started).toContain(refused.existingJobId);
  });
});

// Three worker processes of concurrency 4 (twelve slots) run 2 keys x 8 jobs under limit 2. The
// jobs count themselves in and out in Redis, so "at most 2 at once" is read from the store.
// retryDelay is a minute: every put-back job that comes back sooner was woken by a release.
const LIMIT = 2;
const PER_KEY = 8;
const KEYS = ['tenant-a', 'tenant-b'];

describe.each([
  { store: 'redis', lock: { kind: 'redis', url: redisUrl } },
  // Table mode sends release notifications only over a direct connection given as `listen`.
  {
    store: 'postgres',
    lock: { kind: 'postgres', connectionString: postgresUrl, mode: 'table', listen: postgresUrl },
  },
] as const)('limit $store: worker processes', ({ store, lock }) => {
  const t = withWorkerProcesses();
  let redis: Redis;
  let backend: LockBackend;
  beforeAll(() => {
    redis = new Redis(connection);
    backend =
      lock.kind === 'redis'
        ? redisBackend({ url: lock.url })
        : postgresBackend({ connectionString: lock.connectionString, mode: lock.mode });
  });
  afterAll(async () => {
    await backend.close();
    await redis.quit();
  });

  it(`runs at most ${LIMIT} jobs of a key at once, each once, put-backs spending no attempt`, async () => {
    const name = queueName(`limit-${store}`);
    const queue = t.bench.queue(name);
    const policy = { mode: 'whileRunning', onConflict: 'delay', limit: LIMIT, retryDelay: 60_000 } as const;
    const config: WorkerConfig = { queue: name, lock, policy, worker: { concurrency: 4 } };
    const children = await startWorkers(3, { ...config, history: t.history });
    const jobs = onceQueue(queue, { ...policy, backend, key: (_name, data: Data) => data.key });
    const ids: string[] = [];
    for (let i = 0; i < PER_KEY; i++) {
      for (const key of KEYS) {
        const data = { key, steps: 2, stepMs: 100, store: `${name}:${key}`, gauge: `${name}:${key}:gauge` };
        const r = await jobs.add('work', data, { attempts: 1 });
        if (r.status === 'added') ids.push(r.job.id as string);
      }
    }
    expect(ids).toHaveLength(PER_KEY * KEYS.length);
    await until(
      async () => (await queue.getJobCounts('completed')).completed === ids.length,
      40_000,
      'every job to complete (a put-back job not woken would wait a minute)',
    );

    const most: number[] = [];
    for (const key of KEYS) {
      const gauge = await redis.hgetall(`${name}:${key}:gauge`);
      await redis.del(`${name}:${key}:gauge`, `${name}:${key}`);
      most.push(Number(gauge.most));
      expect(Number(gauge.running)).toBe(0);
      const runs = Object.entries(gauge).filter(([field]) => field.startsWith('runs:'));
      expect(runs).toHaveLength(PER_KEY);
      expect(runs.every(([, n]) => n === '1')).toBe(true);
    }
    // Never more than the limit, and the limit was used: jobs of a key did run together.
    expect(Math.max(...most)).toBe(LIMIT);
    const finished = await Promise.all(ids.map((id) => queue.getJob(id)));
    let putBacks = 0;
    for (const job of finished) {
      expect(job?.finishedOn).toBeDefined();
      expect(job?.returnvalue).toMatchObject({ fence: expect.any(Number) });
      // BullMQ counts the completing attempt; a put-back is started but not made.
      expect(job?.attemptsMade).toBe(1);
      putBacks += (job?.attemptsStarted ?? 1) - 1;
    }
    expect(putBacks).toBeGreaterThan(0);
    // Every job started once in the processes' reports too, and more than one process ran jobs.
    expect(
      reports(children, 'start')
        .map((r) => r.id)
        .sort(),
    ).toEqual([...ids].sort());
    expect(new Set(reports(children, 'end').map((r) => r.pid)).size).toBeGreaterThan(1);
  }, 60_000);
});
