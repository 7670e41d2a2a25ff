// node-redlock code, written with oncelock. Used by
// guide/comparisons.md.
import { type LockBackend, tryLease, withLease } from '@oncelock/redis';

// `backend` is redlockBackend({ urls }) where node-redlock had
// new Redlock(clients): see the Redlock page.

// redlock.using(['report'], 10_000, async (signal) => ...)
export function buildReport(
  backend: LockBackend,
  build: (signal: AbortSignal) => Promise<string>,
): Promise<string> {
  // extended in the background until build() settles, then released
  return withLease(backend, 'report', (held) => build(held.signal), {
    ttl: 10_000,
    wait: 2_000, // instead of retryCount x retryDelay
  });
}

// redlock.acquire(['invoice:7'], 5_000, { retryCount: 0 }), then
// lock.extend(5_000) and lock.release()
export async function chargeIfFree(
  backend: LockBackend,
  invoice: string,
  charge: () => Promise<void>,
): Promise<boolean> {
  const held = await tryLease(backend, `invoice:${invoice}`, {
    ttl: 5_000,
    autoExtend: false, // extended only by hand, as with lock.extend()
  });
  if (held === null) return false; // ExecutionError in redlock
  try {
    await charge();
    await held.extend(5_000);
    return true;
  } finally {
    await held.release();
  }
}
