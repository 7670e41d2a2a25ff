// async-mutex code, written with oncelock's memory backend, which has
// the API of the Redis and PostgreSQL backends. Used by
// guide/comparisons.md.
import {
  limitConcurrency,
  memoryBackend,
  tryLease,
  withLease,
} from '@oncelock/core';

// new Mutex(): one backend per process, one key per mutex
export const locks = memoryBackend();

// mutex.runExclusive(fn), or withTimeout(mutex, 1_000) and cancel()
export function rebuildCache(
  rebuild: () => Promise<number>,
  cancel?: AbortSignal,
): Promise<number> {
  return withLease(locks, 'cache', rebuild, {
    ttl: 30_000, // a lease held longer is extended in the background
    wait: 1_000, // WaitTimeoutError after 1 s (E_TIMEOUT)
    signal: cancel, // WaitAbortedError on abort (E_CANCELED)
  });
}

// tryAcquire(mutex).runExclusive(fn)
export async function flushIfIdle(
  flush: () => Promise<void>,
): Promise<boolean> {
  const held = await tryLease(locks, 'flush', { ttl: 30_000 });
  if (held === null) return false; // E_ALREADY_LOCKED
  try {
    await flush();
    return true;
  } finally {
    await held.release();
  }
}

// new Semaphore(4) and semaphore.runExclusive(fn): at most 4 at once
// (across processes too, with a Redis backend instead of locks)
export function limitedThumbnails(
  render: (path: string) => Promise<string>,
) {
  return limitConcurrency(render, {
    backend: locks,
    key: 'thumbnails',
    limit: 4,
    wait: 60_000, // then { status: 'cancelled', reason: 'limited' }
  });
}
