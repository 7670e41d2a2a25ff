import {
  CapabilityUnsupportedError,
  InvalidArgumentError,
  type JobClaim,
  type LockBackend,
  LockLostError,
  type OnceJobOptions,
  type OnceProcessorFunction,
  onceProcessor,
  onceQueue,
} from '@oncelock/bullmq';
import { queuedSlot } from '@oncelock/core/backend';
import { type Job, type Queue, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { type Bench, eachTest, gate, queueName, type Scan, scanPolicy, until } from './support.js';

let bench: Bench;
let backend: LockBackend;
eachTest((b, m) => {
  bench = b;
  backend = m;
});

const policy = (extra: Partial<OnceJobOptions<Scan>> = {}) =>
  scanPolicy(backend, { ttl: 1_000, retryDelay: 100, ...extra });

/** A queue, its once-guarded add(), and a worker running `fn` under the same policy. */
function setUp(
  label: string,
  options: OnceJobOptions<Scan>,
  fn: OnceProcessorFunction<Scan, unknown, string>,
) {
  const name = queueName(label);
  const queue = bench.queue(name);
  const jobs = onceQueue(queue, options);
  const worker = bench.worker(name, onceProcessor(fn, options));
  const key = `${queue.qualifiedName}:scan:1`;
  return { queue, jobs, worker, key };
}

const added = (r: { status: string; job?: Job }): string => {
  if (r.status !== 'added' || !r.job?.id) expect.fail(`expected a new job, got ${JSON.stringify(r)}`);
  return r.job.id;
};

async function finished(queue: Queue, id: string): Promise<Job> {
  return until(
    async () => {
      // State first: a job read before it finished would carry no return value.
      const state = await queue.getJobState(id);
      return state === 'completed' || state === 'failed' ? queue.getJob(id) : undefined;
    },
    10_000,
    `job ${id} to finish`,
  );
}

/** Resolves when `signal` fires, or when the test ends (so that a failed test cannot hang its worker). */
function aborted(signal: AbortSignal): Promise<unknown> {
  return Promise.race([
    new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
    gate().promise,
  ]);
}

/** Records each run's interval, to check that no two runs of a key overlapped. */
function intervals() {
  const runs: Array<{ id: string; start: number; end: number }> = [];
  let active = 0;
  let most = 0;
  return {
    runs,
    get most() {
      return most;
    },
    async around<T>(id: string, body: () => Promise<T>): Promise<T> {
      const run = { id, start: performance.now(), end: Number.NaN };
      runs.push(run);
      most = Math.max(most, ++active);
      try {
        return await body();
      } finally {
        active--;
        run.end = performance.now();
      }
    },
  };
}

describe('onceProcessor', () => {
  it('whileRunning: a job that starts while its key runs completes as cancelled, naming the running job', async () => {
    const hold = gate();
    const { jobs, queue } = setUp('while-cancel', policy({ mode: 'whileRunning' }), async () => {
      await hold.promise;
      return 'ran';
    });
    const first = added(await jobs.add('scan', { shard: 1 }));
    await until(async () => (await queue.getActiveCount()) === 1);
    const second = added(await jobs.add('scan', { shard: 1 }));
    const duplicate = await finished(queue, second);
    expect(duplicate.returnvalue).toEqual({ status: 'cancelled', reason: 'locked', existingJobId: first });
    expect(duplicate.failedReason).toBeUndefined();
    hold.open();
    expect((await finished(queue, first)).returnvalue).toBe('ran');
  });

  it("whileRunning with 'delay': duplicates are put back, spend no attempt, and never overlap", async () => {
    const log = intervals();
    const { jobs, queue } = setUp(
      'while-delay',
      policy({ mode: 'whileRunning', onConflict: 'delay' }),
      (job) =>
        log.around(job.id as string, async () => {
          await new Promise((r) => setTimeout(r, 150));
          return job.data.n;
        }),
    );
    const ids = [];
    for (let n = 0; n < 4; n++) ids.push(added(await jobs.add('scan', { shard: 1, n }, { attempts: 1 })));
    const done = await Promise.all(ids.map((id) => finished(queue, id)));
    expect(done.map((j) => j.returnvalue).sort()).toEqual([0, 1, 2, 3]);
    // BullMQ counts the attempt that completed; the put-backs before it count for nothing.
    expect(done.map((j) => j.attemptsMade)).toEqual([1, 1, 1, 1]);
    expect(done.some((j) => j.attemptsStarted > 1)).toBe(true);
    expect(log.most).toBe(1);
    expect(log.runs).toHaveLength(4);
  });

  it('untilDone: the claim lasts from add to completion, and ends with it', async () => {
    const hold = gate();
    const fences: number[] = [];
    const { jobs, queue, key } = setUp(
      'until-done',
      policy({ mode: 'untilDone' }),
      async (_job, _t, _s, claim) => {
        fences.push(claim.fence);
        await hold.promise;
        return 'ok';
      },
    );
    const first = added(await jobs.add('scan', { shard: 1 }));
    await until(async () => (await queue.getActiveCount()) === 1);
    expect(await jobs.add('scan', { shard: 1 })).toMatchObject({ status: 'cancelled', existingJobId: first });
    expect((await backend.inspect(key))?.owner).toBe(first);
    hold.open();
    await finished(queue, first);
    expect(await backend.inspect(key)).toBeNull();
    const second = added(await jobs.add('scan', { shard: 1 }));
    await finished(queue, second);
    expect(fences).toHaveLength(2);
    expect(fences[1]).toBeGreaterThan(fences[0] as number);
  });

  it('keeps the claim across retries, and gives it up when the job completes', async () => {
    let calls = 0;
    const { jobs, queue, key } = setUp('retries', policy({ mode: 'untilDone' }), async () => {
      if (++calls < 3) throw new Error(`attempt ${calls} fails`);
      return 'third time';
    });
    const first = added(
      await jobs.add('scan', { shard: 1 }, { attempts: 3, backoff: { type: 'fixed', delay: 400 } }),
    );
    await until(
      async () =>
        (await queue.getJob(first))?.attemptsMade === 1 && (await queue.getJobState(first)) === 'delayed',
    );
    // Between attempts the job is queued again, and still holds its key.
    expect((await backend.inspect(key))?.owner).toBe(first);
    expect(await jobs.add('scan', { shard: 1 })).toMatchObject({ status: 'cancelled', existingJobId: first });
    const job = await finished(queue, first);
    expect(job.returnvalue).toBe('third time');
    expect(job.attemptsMade).toBe(3);
    expect(await backend.inspect(key)).toBeNull();
  });

  it('gives the claim up when the job fails for good: attempts spent, or UnrecoverableError', async () => {
    const { jobs, queue, key } = setUp('final-failure', policy({ mode: 'untilDone' }), async (job) => {
      throw job.data.n === 1 ? new UnrecoverableError('no point retrying') : new Error('always fails');
    });
    const spent = added(
      await jobs.add('scan', { shard: 1, n: 0 }, { attempts: 2, backoff: { type: 'fixed', delay: 50 } }),
    );
    expect((await finished(queue, spent)).attemptsMade).toBe(2);
    expect(await backend.inspect(key)).toBeNull();
    const hopeless = added(await jobs.add('scan', { shard: 1, n: 1 }, { attempts: 5 }));
    const failed = await finished(queue, hopeless);
    expect(failed.failedReason).toBe('no point retrying');
    expect(failed.attemptsMade).toBe(1);
    expect(await backend.inspect(key)).toBeNull();
  });

  it('hands the processor a signal that fires when the claim is lost', async () => {
    const { jobs, queue, key } = setUp(
      'lost',
      policy({ mode: 'whileRunning', ttl: 300 }),
      async (_j, _t, signal, claim) => {
        await aborted(signal);
        return { reason: (signal.reason as Error).name, held: claim.lease?.held };
      },
    );
    const id = added(await jobs.add('scan', { shard: 1 }));
    await until(async () => (await backend.inspect(key))?.owner === id);
    // Someone else ends the claim (an operator's forced release); the next extension finds out.
    expect(await backend.release({ key, owner: id })).toBe(true);
    const job = await finished(queue, id);
    expect(job.returnvalue).toEqual({ reason: LockLostError.name, held: false });
  });

  it("passes on BullMQ's own cancellation signal (the wrapper declares three parameters)", async () => {
    const entered = gate();
    const { jobs, queue, worker } = setUp(
      'cancel-job',
      policy({ mode: 'whileRunning' }),
      async (_j, _t, signal) => {
        entered.open();
        await aborted(signal);
        return String(signal.reason);
      },
    );
    const id = added(await jobs.add('scan', { shard: 1 }));
    await entered.promise;
    expect(worker.cancelJob(id, 'operator says stop')).toBe(true);
    expect((await finished(queue, id)).returnvalue).toBe('operator says stop');
  });

  it('queuedAndRunning: one runs, one waits (put back while its key runs), further adds are cancelled', async () => {
    const hold = gate();
    const log = intervals();
    const { jobs, queue, key } = setUp('queued-and-running', policy({ mode: 'queuedAndRunning' }), (job) =>
      log.around(job.id as string, async () => {
        if (job.data.n === 0) await hold.promise;
        return job.data.n;
      }),
    );
    const first = added(await jobs.add('scan', { shard: 1, n: 0 }));
    await until(async () => (await backend.inspect(key))?.owner === first);
    const second = added(await jobs.add('scan', { shard: 1, n: 1 }));
    // The second job is taken by the worker, finds the key running, and goes back to delayed.
    await until(
      async () => ((await queue.getJob(second))?.attemptsStarted ?? 0) >= 2,
      5_000,
      'the second job to be put back',
    );
    expect(await jobs.add('scan', { shard: 1, n: 2 })).toMatchObject({
      status: 'cancelled',
      existingJobId: second,
    });
    expect((await backend.inspect(queuedSlot(key)))?.owner).toBe(second);
    hold.open();
    const done = await finished(queue, second);
    expect(done.returnvalue).toBe(1);
    expect(done.attemptsMade).toBe(1);
    expect(log.most).toBe(1);
    expect(log.runs.map((r) => r.id)).toEqual([first, second]);
    expect(await backend.inspect(key)).toBeNull();
    expect(await backend.inspect(queuedSlot(key))).toBeNull();
  });

  it('queuedAndRunning: a job added around the guard (no slot) is cancelled if another already waits', async () => {
    const hold = gate();
    const { jobs, queue, key } = setUp('around', policy({ mode: 'queuedAndRunning' }), async (job) => {
      if (job.data.n === 0) await hold.promise;
      return job.data.n;
    });
    const first = added(await jobs.add('scan', { shard: 1, n: 0 }));
    await until(async () => (await backend.inspect(key))?.owner === first);
    const waiting = added(await jobs.add('scan', { shard: 1, n: 1 }));
    // A job scheduler, for instance, adds jobs without onceQueue.
    const stray = await queue.add('scan', { shard: 1, n: 2 });
    const strayDone = await finished(queue, stray.id as string);
    expect(strayDone.returnvalue).toEqual({ status: 'cancelled', reason: 'locked', existingJobId: waiting });
    hold.open();
    expect((await finished(queue, waiting)).returnvalue).toBe(1);
  });

  it('untilRunning: the key is free once the job starts, and no fence is held while it runs', async () => {
    const hold = gate();
    const claims: JobClaim[] = [];
    const { jobs, queue } = setUp(
      'until-running',
      policy({ mode: 'untilRunning' }),
      async (job, _t, _s, claim) => {
        claims.push(claim);
        if (job.data.n === 0) await hold.promise;
        return job.data.n;
      },
    );
    const first = added(await jobs.add('scan', { shard: 1, n: 0 }));
    await until(() => claims.length === 1);
    await bench.workers[0]?.pause(true);
    const second = added(await jobs.add('scan', { shard: 1, n: 1 }));
    expect(await jobs.add('scan', { shard: 1, n: 2 })).toMatchObject({
      status: 'cancelled',
      existingJobId: second,
    });
    expect(() => claims[0]?.fence).toThrow(CapabilityUnsupportedError);
    hold.open();
    bench.workers[0]?.resume();
    expect((await finished(queue, first)).returnvalue).toBe(0);
    expect((await finished(queue, second)).returnvalue).toBe(1);
  });

  it("refuses a claim TTL above half the worker's lockDuration, and a processor that is not a function", async () => {
    const { jobs, queue } = setUp(
      'ttl-vs-lock',
      policy({ mode: 'whileRunning', ttl: 20_000 }),
      async () => 'ran',
    );
    const id = added(await jobs.add('scan', { shard: 1 }));
    const job = await finished(queue, id);
    expect(job.failedReason).toMatch(/at most half the worker's lockDuration \(30000 ms\)/);
    expect(() => onceProcessor('no' as never, policy())).toThrow(InvalidArgumentError);
  });
});
