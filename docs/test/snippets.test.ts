// The code samples on the site are real files; this runs them on the in-memory backend and checks
// that they do what the pages say they do.
import {
  type LockBackend,
  LockNotAcquiredError,
  lease,
  memoryBackend,
  type OncelockEvent,
  onEvent,
} from '@oncelock/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tryNightly } from '../snippets/errors.js';
import { instrument, type Metrics } from '../snippets/events.js';
import { fencedWrites } from '../snippets/fencing.js';
import { heldUnder, whoHolds } from '../snippets/inspect.js';
import { backfill, chargeIfFree, closeLedger, writes } from '../snippets/lease-basics.js';
import { guards, nightlyRollup } from '../snippets/once-modes.js';
import { type JobQueue, scanJobs } from '../snippets/once-queue.js';
import { drainerJobs, makeDrain, type Outbox } from '../snippets/recipe-drainer.js';
import { rebuildIndex } from '../snippets/recipe-lock-lost.js';
import { chargeAll, type Invoice } from '../snippets/recipe-per-item.js';
import { startScanner } from '../snippets/recipe-periodic-scan.js';
import { makeExport, makeShardScan, Reports } from '../snippets/run-once.js';

let backend: LockBackend;
beforeEach(() => {
  backend = memoryBackend();
});
afterEach(async () => {
  await backend.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fakeQueue() {
  const added: Array<{ jobId: string; delayMs?: number }> = [];
  const queue: JobQueue & { add(jobId: string, options?: { delayMs?: number }): Promise<void> } = {
    async add(jobId: string, options?: { delayMs?: number }) {
      added.push({ jobId, ...options });
    },
    async remove() {},
  };
  return { queue, added };
}

describe('getting started', () => {
  it('runs one of two overlapping calls and cancels the other', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../snippets/getting-started-memory.js');
      expect(log).toHaveBeenCalledWith('ran', 'cancelled');
    } finally {
      log.mockRestore();
    }
  });
});

describe('leases', () => {
  it('backfill copies every row with the lease fence, then releases', async () => {
    writes.length = 0;
    expect(await backfill(backend, ['a', 'b'])).toBe(2);
    expect(new Set(writes.map((w) => w.fence)).size).toBe(1);
    expect(await backend.inspect('audit-backfill')).toBeNull();
  });

  it('tryLease reports busy while another holder has the invoice', async () => {
    const other = await lease(backend, 'invoice:7', { ttl: 5_000 });
    expect(await chargeIfFree(backend, '7')).toBe('busy');
    await other.release();
    expect(await chargeIfFree(backend, '7')).toBe('charged');
  });

  it('withLease releases after the work', async () => {
    await closeLedger(backend, '2024-06-01');
    expect(await backend.inspect('ledger:2024-06-01')).toBeNull();
  });
});

describe('runOnceOrCancel', () => {
  it('cancels an overlapping call for the same shard and runs another shard', async () => {
    const scan = makeShardScan(backend);
    const [a, b, c] = await Promise.all([scan(3), scan(3), scan(4)]);
    expect([a.status, b.status].sort()).toEqual(['cancelled', 'ran']);
    expect(c).toEqual({ status: 'ran', value: 40 });
  });

  it('gives equal argument objects in any key order one key', async () => {
    const exportRows = makeExport(backend);
    const since = new Date('2024-06-01T00:00:00Z');
    // An object literal with its keys the other way round is the same filter.
    const reordered = JSON.parse(JSON.stringify({ since: 0, tenant: 'acme' })) as {
      tenant: string;
      since: Date;
    };
    reordered.since = since;
    const [a, b] = await Promise.all([exportRows({ tenant: 'acme', since }), exportRows(reordered)]);
    expect([a.status, b.status].sort()).toEqual(['cancelled', 'ran']);
  });

  it('as a decorator, resolves undefined for the call that found the key held', async () => {
    const reports = new Reports(backend);
    const results = await Promise.all([reports.build('mon'), reports.build('mon')]);
    expect(results.sort()).toEqual(['report for mon', undefined]);
  });
});

describe('once', () => {
  it('run returns the value, or null while another process runs it', async () => {
    expect(await nightlyRollup(backend, 'mon')).toBe(3);
    const [a, b] = await Promise.all([nightlyRollup(backend, 'tue'), nightlyRollup(backend, 'tue')]);
    expect([a, b].sort()).toEqual([3, null]);
  });

  it('the conflict strategies cancel, throw, and wait', async () => {
    const g = guards(backend);
    const holder = await lease(backend, 'sync', { ttl: 5_000 });
    expect((await g.skip.run(() => 1)).status).toBe('cancelled');
    await expect(g.fail.run(() => 1)).rejects.toMatchObject({ code: 'ONCELOCK_NOT_ACQUIRED' });
    await expect(g.fail.run(() => 1)).rejects.toBeInstanceOf(LockNotAcquiredError);
    const waited = g.queue.run(() => 'after the holder');
    await sleep(50);
    await holder.release();
    expect(await waited).toEqual({ status: 'ran', value: 'after the holder' });
  });

  it('untilDone: one scan queued or running; the next one after it finished', async () => {
    const { queue, added } = fakeQueue();
    const jobs = scanJobs(backend, queue);
    const first = await jobs.schedule();
    expect(first).not.toBeNull();
    expect(await jobs.schedule()).toBeNull();
    await jobs.work(first!);
    expect(await jobs.schedule()).not.toBeNull();
    expect(added).toHaveLength(2);
  });
});

describe('fencing and errors', () => {
  it('a late write with an older fence is rejected', async () => {
    const log = await fencedWrites(backend);
    expect(log[0]).toMatch(/^rejected fence \d+, store has \d+$/);
    expect(log[1]).toBe('value: written by the current holder');
  });

  it('a held key is skipped after the wait, a free one runs', async () => {
    const other = await lease(backend, 'nightly', { ttl: 10_000 });
    const job = vi.fn(async () => {});
    // The snippet waits 2 s; let the holder go after the wait has timed out.
    expect(await tryNightly(backend, job)).toBe('skipped');
    expect(job).not.toHaveBeenCalled();
    await other.release();
    expect(await tryNightly(backend, job)).toBe('done');
  });
});

describe('operations', () => {
  it('events become metrics and log lines', async () => {
    const counts: string[] = [];
    const observed: string[] = [];
    const metrics: Metrics = {
      count: (name) => counts.push(name),
      observe: (name) => observed.push(name),
    };
    const stop = instrument(metrics, () => {});
    try {
      const held = await lease(backend, 'k', { ttl: 1_000 });
      await held.release();
      expect(observed).toEqual(['oncelock_wait_ms', 'oncelock_held_ms']);
    } finally {
      stop();
    }
    await (await lease(backend, 'k', { ttl: 1_000 })).release();
    expect(observed).toHaveLength(2); // stopped listening
    expect(counts).toEqual([]);
  });

  it('inspect says who holds a key; list shows a prefix', async () => {
    expect(await whoHolds(backend, 'orders:scan')).toBe('orders:scan: free');
    const held = await lease(backend, 'orders:scan', { ttl: 5_000 });
    expect(await whoHolds(backend, 'orders:scan')).toContain(`held by ${held.token}`);
    expect((await heldUnder(backend, 'orders:'))[0]).toContain(held.token);
    await held.release();
  });
});

describe('recipes', () => {
  it('the periodic scan runs at most one scan at a time and skips overlapping ticks', async () => {
    const lines: string[] = [];
    let running = 0;
    let overlap = false;
    const stop = startScanner(
      backend,
      async () => {
        running++;
        overlap ||= running > 1;
        await sleep(60);
        running--;
        return 5;
      },
      (line) => lines.push(line),
      10,
    );
    try {
      await vi.waitFor(
        () => {
          expect(lines).toContain('scanned 5 orders');
          expect(lines).toContain('a scan is already running; tick skipped');
        },
        { timeout: 10_000, interval: 20 },
      );
    } finally {
      stop();
    }
    expect(overlap).toBe(false);
  });

  it('the in-process drainer: one running, one waiting, the rest cancelled', async () => {
    const pending = Array.from({ length: 250 }, (_, i) => `m${i}`);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let calls = 0;
    const outbox: Outbox = {
      async next(limit) {
        if (calls++ === 0) await gate; // hold the first drain inside its run
        return pending.slice(0, limit);
      },
      async markSent(ids) {
        pending.splice(0, ids.length);
      },
    };
    const drain = makeDrain(backend, outbox);
    const first = drain();
    await vi.waitFor(() => expect(calls).toBe(1));
    const second = drain(); // arrives while the first runs: it waits
    const third = drain(); // one is already waiting: cancelled
    expect((await third).status).toBe('cancelled');
    open();
    expect(await first).toEqual({ status: 'ran', value: 250 });
    expect(await second).toEqual({ status: 'ran', value: 0 }); // its turn came; nothing was left
  });

  it('the queued drainer requeues itself while it runs, and a third job is refused', async () => {
    const pending = Array.from({ length: 150 }, (_, i) => `m${i}`);
    const outbox: Outbox = {
      next: async (limit) => pending.slice(0, limit),
      markSent: async (ids) => void pending.splice(0, ids.length),
    };
    const { queue, added } = fakeQueue();
    const jobs = drainerJobs(backend, outbox, queue);
    expect(await jobs.enqueue()).toBe(true);
    expect(await jobs.enqueue()).toBe(false); // one is already waiting
    const first = added[0]!.jobId;
    await jobs.work(first); // sends 100 and enqueues its successor while it runs
    expect(added).toHaveLength(2);
    await jobs.work(added[1]!.jobId); // sends the last 50, does not requeue
    expect(pending).toEqual([]);
    expect(added).toHaveLength(2);
  });

  it('per-item locks: a held invoice is skipped, a paid one is not charged again', async () => {
    const invoices: Invoice[] = [1, 2, 3].map((id) => ({ id, amount: 10 }));
    const paid = new Set<number>([3]);
    const charged: number[] = [];
    const other = await lease(backend, 'invoice:2', { ttl: 5_000 });
    const outcome = await chargeAll(backend, invoices, {
      isDue: async (invoice) => !paid.has(invoice.id),
      charge: async (invoice) => {
        charged.push(invoice.id);
        paid.add(invoice.id);
      },
    });
    await other.release();
    expect(outcome).toEqual({ charged: 1, busy: 1, alreadyPaid: 1 });
    expect(charged).toEqual([1]);
  });

  it('a lost lease stops the run before its write', async () => {
    let now = 0;
    const clocked = memoryBackend({ clock: () => now });
    const stored: string[] = [];
    try {
      const result = await rebuildIndex(
        clocked,
        { write: async (key) => void stored.push(key) },
        ['a', 'b'],
        async (page, signal) => {
          if (page === 'b') {
            now += 10_000; // the store's clock passes the TTL: the next extension is refused
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          }
          return `body of ${page}`;
        },
        60,
      );
      expect(result).toBe('lost');
      expect(stored).toEqual(['a']);
    } finally {
      await clocked.close();
    }
  });
});

describe('events seen by the snippets', () => {
  it('a skipped duplicate emits a skipped event', async () => {
    const seen: OncelockEvent[] = [];
    const stop = onEvent('skipped', (e) => seen.push(e));
    try {
      const scan = makeShardScan(backend);
      await Promise.all([scan(1), scan(1)]);
    } finally {
      stop();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'skipped', key: 'scan:shard-1', mode: 'whileRunning' });
  });
});
