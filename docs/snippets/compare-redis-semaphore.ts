// redis-semaphore's Mutex and Semaphore, written with oncelock. Used
// by guide/comparisons.md.
import { type LockBackend, lease, once } from '@oncelock/core';

// new Mutex(redis, 'sync', { lockTimeout: 10_000,
//   acquireTimeout: 5_000, onLockLost })
export async function syncAccounts(
  backend: LockBackend,
  sync: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  // refreshed in the background, batched with every other lease
  const held = await lease(backend, 'sync', {
    ttl: 10_000,
    wait: 5_000, // WaitTimeoutError when it runs out
  });
  try {
    // instead of onLockLost: the signal aborts with a LockLostError
    await sync(held.signal);
  } finally {
    await held.release();
  }
}

// new Semaphore(redis, 'exports', 3, { lockTimeout: 30_000,
//   acquireTimeout: 60_000 })
export async function exportWithPermit(
  backend: LockBackend,
  run: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  // one of at most 3 permits, across every process: a Lease with
  // its own TTL, so a killed holder frees only its own permit
  const permit = await lease(backend, 'exports', {
    limit: 3,
    ttl: 30_000,
    wait: 60_000, // WaitTimeoutError when it runs out
  });
  try {
    await run(permit.signal);
  } finally {
    await permit.release();
  }
}

// identifier + acquiredExternally: one process claims, another
// refreshes and releases. The shared identifier is the job id.
export function exportJobs(backend: LockBackend) {
  const guard = once(backend, { key: 'export', mode: 'untilDone' });
  return {
    claim: (jobId: string) => guard.enqueue(jobId),
    async run(jobId: string, work: () => Promise<void>) {
      const started = await guard.start(jobId);
      if (started.status !== 'started') return false;
      try {
        await work();
        return true;
      } finally {
        await started.run.finish();
      }
    },
  };
}
