import {
  InvalidArgumentError,
  type LockBackend,
  LockNotAcquiredError,
  type OnceJobOptions,
  once,
  onceQueue,
} from '@oncelock/bullmq';
import { delay } from '@oncelock/testkit';
import { startTcpProxy } from '@oncelock/testkit/faults';
import { Queue, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { type Bench, connection, eachTest, queueName, type Scan, scanPolicy, until } from './support.js';

let bench: Bench;
let backend: LockBackend;
eachTest((b, m) => {
  bench = b;
  backend = m;
});

const policy = (extra: Partial<OnceJobOptions<Scan>> = {}) => scanPolicy(backend, extra);

describe('add() at enqueue time', () => {
  it('untilDone: a second add for the same key is cancelled and names the job already there', async () => {
    const queue = bench.queue(queueName('until-done'));
    const scans = onceQueue(queue, policy({ mode: 'untilDone' }));
    const first = await scans.add('scan', { shard: 1 });
    expect(first.status).toBe('added');
    if (first.status !== 'added') return;
    expect(first.job.id).toMatch(/^once-[0-9a-f]{32}$/);
    expect(await scans.add('scan', { shard: 1 })).toEqual({
      status: 'cancelled',
      reason: 'locked',
      existingJobId: first.job.id,
    });
    // Another key is independent.
    expect((await scans.add('scan', { shard: 2 })).status).toBe('added');
    expect(await queue.getWaitingCount()).toBe(2);
  });

  it('untilRunning and queuedAndRunning: one waiting job per key', async () => {
    for (const mode of ['untilRunning', 'queuedAndRunning'] as const) {
      const scans = onceQueue(bench.queue(queueName(mode)), policy({ mode }));
      const first = await scans.add('scan', { shard: 1 });
      const second = await scans.add('scan', { shard: 1 });
      expect(first.status).toBe('added');
      expect(second).toMatchObject({
        status: 'cancelled',
        existingJobId: first.status === 'added' ? first.job.id : '',
      });
      expect(await scans.queue.getWaitingCount()).toBe(1);
    }
  });

  it('whileRunning: adds every job (its claim is made when a job starts)', async () => {
    const scans = onceQueue(bench.queue(queueName('while-running')), policy({ mode: 'whileRunning' }));
    for (let i = 0; i < 3; i++) expect((await scans.add('scan', { shard: 1 })).status).toBe('added');
    expect(await scans.queue.getWaitingCount()).toBe(3);
  });

  it('a key function that returns null leaves the job unguarded', async () => {
    const scans = onceQueue(bench.queue(queueName('unguarded')), { backend, key: () => null });
    for (let i = 0; i < 2; i++)
      expect((await scans.add('scan', { shard: 1 }, { jobId: `plain-${i}` })).status).toBe('added');
    expect(await scans.queue.getWaitingCount()).toBe(2);
  });

  it("onConflict 'throw' throws LockNotAcquiredError whose holder is the existing job", async () => {
    const scans = onceQueue(bench.queue(queueName('throw')), policy({ onConflict: 'throw' }));
    const first = await scans.add('scan', { shard: 1 });
    const error = await scans.add('scan', { shard: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockNotAcquiredError);
    expect((error as LockNotAcquiredError).holder?.owner).toBe(
      first.status === 'added' ? first.job.id : 'none',
    );
    expect((error as LockNotAcquiredError).message).toContain('@oncelock/bullmq memory');
  });

  it("onConflict 'replace' gives the queued job the new data", async () => {
    const scans = onceQueue(bench.queue(queueName('replace')), policy({ onConflict: 'replace' }));
    const first = await scans.add('scan', { shard: 1, note: 'old' });
    const second = await scans.add('scan', { shard: 1, note: 'new' });
    expect(second.status).toBe('replaced');
    if (first.status !== 'added' || second.status !== 'replaced') return;
    expect(second.job.id).toBe(first.job.id);
    expect((await scans.queue.getJob(first.job.id as string))?.data).toEqual({ shard: 1, note: 'new' });
    expect(await scans.queue.getWaitingCount()).toBe(1);
  });

  it("onConflict 'replace' leaves a job that already runs alone, and says so", async () => {
    const name = queueName('replace-running');
    const scans = onceQueue(bench.queue(name), policy({ onConflict: 'replace' }));
    const first = await scans.add('scan', { shard: 1, note: 'old' });
    let release!: () => void;
    const running = new Promise<void>((r) => {
      release = r;
    });
    const seen: Scan[] = [];
    bench.worker(name, async (job) => {
      seen.push(job.data);
      await running;
    });
    await until(async () => (await scans.queue.getActiveCount()) === 1);
    const second = await scans.add('scan', { shard: 1, note: 'new' });
    expect(second).toEqual({
      status: 'cancelled',
      reason: 'locked',
      existingJobId: first.status === 'added' ? first.job.id : '',
    });
    expect(
      (await scans.queue.getJob(first.status === 'added' ? (first.job.id as string) : ''))?.data.note,
    ).toBe('old');
    release();
    expect(seen).toEqual([{ shard: 1, note: 'old' }]);
  });

  it("onConflict 'delay' postpones a delayed job, and cancels when the job is no longer delayed", async () => {
    const scans = onceQueue(
      bench.queue(queueName('delay')),
      policy({ onConflict: 'delay', queuedTtl: 20_000 }),
    );
    const first = await scans.add('scan', { shard: 1 }, { delay: 3_000 });
    if (first.status !== 'added') expect.fail('first add');
    expect((await scans.queue.getJob(first.job.id as string))?.delay).toBe(3_000);
    await delay(1_000);
    const second = await scans.add('scan', { shard: 1, note: 'ignored' }, { delay: 5_000 });
    expect(second.status).toBe('delayed');
    const job = await scans.queue.getJob(first.job.id as string);
    expect(job?.delay).toBe(5_000);
    expect(job?.data).toEqual({ shard: 1 });
    expect(await scans.queue.getDelayedCount()).toBe(1);
    // The claim's TTL starts again with the postponement (a second has passed since the add).
    const key = `${scans.queue.qualifiedName}:scan:1`;
    expect((await backend.inspect(key))?.ttlRemaining).toBeGreaterThan(19_500);

    await job?.promote();
    const third = await scans.add('scan', { shard: 1 }, { delay: 5_000 });
    expect(third).toEqual({ status: 'cancelled', reason: 'locked', existingJobId: first.job.id });
  });

  it('refuses, before any round trip, options it cannot honour', async () => {
    const queue = bench.queue(queueName('bad'));
    const scans = onceQueue(queue, policy());
    for (const opts of [
      { jobId: 'mine' },
      { deduplication: { id: 'x' } },
      { repeat: { every: 1000 } },
      { delay: -1 },
      { delay: 3_600_000 },
    ]) {
      await expect(scans.add('scan', { shard: 1 }, opts)).rejects.toThrow(InvalidArgumentError);
    }
    await expect(onceQueue(queue, policy({ onConflict: 'delay' })).add('scan', { shard: 1 })).rejects.toThrow(
      /delay above 0/,
    );
    expect(() => onceQueue(queue, policy({ mode: 'whileRunning', onConflict: 'replace' }))).toThrow(
      InvalidArgumentError,
    );
    expect(() => onceQueue(queue, policy({ mode: 'sometimes' as never }))).toThrow(InvalidArgumentError);
    expect(() => onceQueue(queue, policy({ ttl: 0 }))).toThrow(InvalidArgumentError);
    expect(() => onceQueue(queue, { ...policy(), key: 3 as never })).toThrow(InvalidArgumentError);
    expect(() => onceQueue(queue, { ...policy(), backend: {} as never })).toThrow(InvalidArgumentError);
    expect(() => onceQueue({} as never, policy())).toThrow(InvalidArgumentError);
    const emptyKey = onceQueue(queue, { backend, key: () => '' });
    await expect(emptyKey.add('scan', { shard: 1 })).rejects.toThrow(InvalidArgumentError);
    expect(await queue.count()).toBe(0);
  });

  it('gives the claim back when BullMQ refuses the job', async () => {
    const scans = onceQueue(bench.queue(queueName('add-fails')), policy());
    // BullMQ validates options inside add(): a fractional priority is refused after the claim was made.
    await expect(scans.add('scan', { shard: 1 }, { priority: 1.5 })).rejects.toThrow(/Priority/);
    expect((await scans.add('scan', { shard: 1 })).status).toBe('added');
  });
});

describe('stale claims', () => {
  it('a claim whose job was removed behind its back is taken over once older than addTimeout', async () => {
    const queue = bench.queue(queueName('removed'));
    const scans = onceQueue(queue, policy({ addTimeout: 300 }));
    const first = await scans.add('scan', { shard: 1 });
    if (first.status !== 'added') expect.fail('first add');
    expect(await queue.remove(first.job.id as string)).toBe(1);
    // Within addTimeout the holder may still be on its way into the queue: the claim stands.
    expect(await scans.add('scan', { shard: 1 })).toMatchObject({
      status: 'cancelled',
      existingJobId: first.job.id,
    });
    await delay(350);
    expect((await scans.add('scan', { shard: 1 })).status).toBe('added');
  });

  it('a producer that died between claim and add blocks the key for at most addTimeout', async () => {
    const queue = bench.queue(queueName('ghost'));
    const options = policy({ addTimeout: 300 });
    const scans = onceQueue(queue, options);
    // What such a producer leaves behind: a claim for a job id that never reached the queue.
    await once(backend, { key: `${queue.qualifiedName}:scan:1`, mode: 'untilDone' }).enqueue('once-ghost');
    expect(await scans.add('scan', { shard: 1 })).toMatchObject({
      status: 'cancelled',
      existingJobId: 'once-ghost',
    });
    await delay(350);
    expect((await scans.add('scan', { shard: 1 })).status).toBe('added');
  });

  it('a slow add whose claim was taken over meanwhile withdraws its own job', async () => {
    const name = queueName('slow-add');
    const proxy = await startTcpProxy({ targetPort: connection.port });
    const slow = new Queue(name, { connection: { host: '127.0.0.1', port: proxy.port } });
    try {
      await slow.waitUntilReady();
      const options = policy({ addTimeout: 300 });
      // The network to the queue's Redis stops for a while in the middle of an add.
      proxy.blackhole(true);
      const stuck = onceQueue(slow, options).add('scan', { shard: 1 });
      await delay(400);
      const other = await onceQueue(bench.queue(name), options).add('scan', { shard: 1 });
      if (other.status !== 'added')
        expect.fail(`the other producer should take the stale claim over, got ${other.status}`);
      proxy.blackhole(false);
      expect(await stuck).toEqual({ status: 'cancelled', reason: 'locked', existingJobId: other.job.id });
      expect(await slow.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect((await slow.getWaiting())[0]?.id).toBe(other.job.id);
    } finally {
      await slow.close();
      await proxy.close();
    }
  });

  it('a claim whose job completed without giving it up is taken over at once', async () => {
    const name = queueName('completed');
    const queue = bench.queue(name);
    const scans = onceQueue(queue, policy());
    const first = await scans.add('scan', { shard: 1 });
    if (first.status !== 'added') expect.fail('first add');
    // A worker without onceProcessor completes the job and never releases its claim.
    const plain = new Worker(name, async () => 'done', { connection });
    bench.workers.push(plain);
    await until(async () => (await queue.getJobState(first.job.id as string)) === 'completed');
    expect((await scans.add('scan', { shard: 1 })).status).toBe('added');
  });

  it('remove() removes a queued job and frees its key', async () => {
    const queue = bench.queue(queueName('remove'));
    const scans = onceQueue(queue, policy());
    const first = await scans.add('scan', { shard: 1 });
    if (first.status !== 'added') expect.fail('first add');
    expect(await scans.remove(first.job.id as string)).toBe(true);
    expect(await scans.remove(first.job.id as string)).toBe(false);
    expect((await scans.add('scan', { shard: 1 })).status).toBe('added');
  });
});
