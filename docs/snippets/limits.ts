// Concurrency limits: at most N holders of a key, across every process.
// #region wrapper
import { type LockBackend, limitConcurrency } from '@oncelock/core';

export interface Payments {
  charge(merchant: string, cents: number): Promise<string>;
}

/** At most 5 calls per merchant at once, whichever worker makes them. */
export function limitedCharges(backend: LockBackend, payments: Payments) {
  return limitConcurrency(
    (merchant: string, cents: number) => payments.charge(merchant, cents),
    {
      backend,
      key: (merchant) => `stripe:${merchant}`,
      limit: 5,
      ttl: 30_000, // each permit's own TTL, extended while the call runs
      wait: 10_000, // wait up to 10 s for a permit, then give up
    },
  );
}

// const r = await charge('acme', 1200);
// r: { status: 'ran', value } | { status: 'cancelled', reason: 'limited' }
// #endregion wrapper

// #region lease
import { lease } from '@oncelock/core';

/** The same limit around a block of code: a permit is a Lease. */
export async function exportTenant(
  backend: LockBackend,
  tenant: string,
  write: (fence: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const permit = await lease(backend, `export:${tenant}`, {
    limit: 3,
    ttl: 30_000,
    wait: 60_000,
  });
  try {
    // its own fence, above every earlier permit's and lease's of this key
    await write(permit.fence, permit.signal);
  } finally {
    await permit.release();
  }
}
// #endregion lease
