// Redlock over independent Redis primaries.
// #region redlock
import {
  type LockBackend,
  redlockBackend,
  tryLease,
} from '@oncelock/redis';

// Three or five primaries that do not replicate each other (not a
// Cluster, not replicas).
export const quorum = (): LockBackend =>
  redlockBackend({
    urls: [
      'redis://redis-a:6379',
      'redis://redis-b:6379',
      'redis://redis-c:6379',
    ],
  });

export async function warmCache(
  backend: LockBackend,
  build: () => Promise<void>,
): Promise<boolean> {
  // An efficiency lock: an overlap costs a second cache build, never
  // wrong data.
  const held = await tryLease(backend, 'cache:warm', { ttl: 30_000 });
  if (held === null) return false; // another process is warming it
  try {
    // no held.fence here: Redlock makes none (reading it throws)
    await build();
    return true;
  } finally {
    await held.release();
  }
}
// #endregion redlock
