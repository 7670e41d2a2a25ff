// The code on the Comparisons page: what pg-boss, node-redlock, redis-semaphore and async-mutex
// code becomes with oncelock. Each sample runs on the in-memory backend and does what the page
// says.
import { type LockBackend, lease, memoryBackend, WaitAbortedError, WaitTimeoutError } from '@oncelock/core';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushIfIdle, limitedThumbnails, locks, rebuildCache } from '../snippets/compare-async-mutex.js';
import { modeFor, refreshOnce } from '../snippets/compare-pg-boss.js';
import { exportJobs, exportWithPermit, syncAccounts } from '../snippets/compare-redis-semaphore.js';
import { buildReport, chargeIfFree } from '../snippets/compare-redlock.js';

let backend: LockBackend;
beforeEach(() => {
  backend = memoryBackend();
});
afterEach(async () => {
  await backend.close();
});
afterAll(async () => {
  await locks.close();
});

/** Counts the calls running at once, and the most that ever did. */
function tally() {
  const t = { running: 0, most: 0 };
  return Object.assign(t, {
    async during<T>(work: () => Promise<T>): Promise<T> {
      t.most = Math.max(t.most, ++t.running);
      try {
        return await work();
      } finally {
        t.running--;
      }
    },
  });
}

/** A promise and the function that settles it, to hold work open while the test looks. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('pg-boss policies as once modes', () => {
  // While a first refresh runs, a second and then a third are asked for.
  const expected = {
    short: ['ran', 'ran'], // the key is free again once the work starts
    singleton: ['skipped', 'skipped'],
    stately: ['ran', 'skipped'], // the second waits its turn, the third finds it taken
    exclusive: ['skipped', 'skipped'],
  } as const;

  it.each(Object.keys(modeFor) as Array<keyof typeof modeFor>)(
    "policy '%s': what a second and a third refresh do while the first runs",
    async (policy) => {
      const g = gate();
      const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
      const first = refreshOnce(backend, policy, 'acme', () => g.promise);
      await pause();
      const second = refreshOnce(backend, policy, 'acme', async () => {});
      await pause();
      const third = await refreshOnce(backend, policy, 'acme', async () => {});
      g.open();
      expect([await first, await second, third]).toEqual(['ran', ...expected[policy]]);
    },
  );
});

describe('node-redlock', () => {
  it('using: the work gets the lease signal, and the key is free afterwards', async () => {
    const report = await buildReport(backend, async (signal) => (signal.aborted ? 'aborted' : 'built'));
    expect(report).toBe('built');
    expect(await backend.inspect('report')).toBeNull();
  });

  it('acquire with no retries: false while someone holds the invoice', async () => {
    const other = await lease(backend, 'invoice:7', { ttl: 5_000 });
    let charged = 0;
    expect(await chargeIfFree(backend, '7', async () => void charged++)).toBe(false);
    await other.release();
    expect(await chargeIfFree(backend, '7', async () => void charged++)).toBe(true);
    expect(charged).toBe(1);
    expect(await backend.inspect('invoice:7')).toBeNull();
  });
});

describe('redis-semaphore', () => {
  it('Mutex: waits for the key, runs with the signal, releases', async () => {
    const other = await lease(backend, 'sync', { ttl: 5_000 });
    setTimeout(() => void other.release(), 50);
    let ran = false;
    await syncAccounts(backend, async (signal) => {
      ran = !signal.aborted;
    });
    expect(ran).toBe(true);
    expect(await backend.inspect('sync')).toBeNull();
  });

  it('Semaphore: at most 3 permits at once; a fourth waits for a release', async () => {
    const g = gate();
    const t = tally();
    const calls = Array.from({ length: 4 }, () => exportWithPermit(backend, () => t.during(() => g.promise)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(t.running).toBe(3);
    const holder = await backend.inspect('exports');
    expect(holder?.limit).toBe(3);
    expect(holder?.holders).toHaveLength(3);
    g.open();
    await Promise.all(calls);
    expect(t.most).toBe(3);
    expect(await backend.inspect('exports')).toBeNull();
  });

  it('a shared identifier: claimed by one side, run and released by the other', async () => {
    const producer = exportJobs(backend);
    const worker = exportJobs(backend);
    expect(await producer.claim('job-1')).toEqual({ status: 'claimed' });
    expect((await producer.claim('job-2')).status).toBe('cancelled');
    expect(await worker.run('job-1', async () => {})).toBe(true);
    expect(await backend.inspect('export')).toBeNull();
  });
});

describe('async-mutex', () => {
  it('runExclusive: one at a time, and a timeout or a cancel ends the wait', async () => {
    const g = gate();
    const order: number[] = [];
    const first = rebuildCache(async () => {
      await g.promise;
      order.push(1);
      return 1;
    });
    const second = rebuildCache(async () => {
      order.push(2);
      return 2;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cancel = new AbortController();
    const cancelled = rebuildCache(async () => 3, cancel.signal);
    cancel.abort();
    await expect(cancelled).rejects.toBeInstanceOf(WaitAbortedError);
    g.open();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(order).toEqual([1, 2]);

    const held = await lease(locks, 'cache', { ttl: 5_000 });
    await expect(rebuildCache(async () => 4)).rejects.toBeInstanceOf(WaitTimeoutError);
    await held.release();
  });

  it('Semaphore: at most 4 calls at once, the others wait their turn', async () => {
    const g = gate();
    const t = tally();
    const thumbnail = limitedThumbnails((path) =>
      t.during(async () => {
        await g.promise;
        return `${path}.png`;
      }),
    );
    const calls = ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => thumbnail(p));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(t.running).toBe(4);
    g.open();
    const results = await Promise.all(calls);
    expect(results.map((r) => (r.status === 'ran' ? r.value : r.reason))).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => `${p}.png`),
    );
    expect(t.most).toBe(4);
  });

  it('tryAcquire: false while the key is held', async () => {
    const held = await lease(locks, 'flush', { ttl: 5_000 });
    expect(await flushIfIdle(async () => {})).toBe(false);
    await held.release();
    expect(await flushIfIdle(async () => {})).toBe(true);
  });
});
