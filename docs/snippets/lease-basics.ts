// Leases: `await using`, tryLease and withLease. Used by
// guide/concepts.md.
// #region await-using
import {
  type LockBackend,
  lease,
  tryLease,
  withLease,
} from '@oncelock/core';

export async function backfill(
  backend: LockBackend,
  rows: string[],
): Promise<number> {
  // Waits up to 5 s for the lock; the store forgets it 10 s after the
  // last extension.
  await using held = await lease(backend, 'audit-backfill', {
    ttl: 10_000,
    wait: 5_000,
  });
  let copied = 0;
  for (const row of rows) {
    held.signal.throwIfAborted(); // stop at once if the lease was lost
    // the fence goes with every protected write
    await copyRow(row, held.fence);
    copied++;
  }
  return copied;
} // released here, whether the loop finished or threw
// #endregion await-using

// #region try-lease
export async function chargeIfFree(
  backend: LockBackend,
  invoiceId: string,
): Promise<'charged' | 'busy'> {
  const held = await tryLease(backend, `invoice:${invoiceId}`, {
    ttl: 30_000,
  });
  if (held === null) return 'busy'; // someone else is on it: not an error
  try {
    await charge(invoiceId, held.fence);
    return 'charged';
  } finally {
    await held.release();
  }
}
// #endregion try-lease

// #region with-lease
export function closeLedger(
  backend: LockBackend,
  day: string,
): Promise<number> {
  return withLease(
    backend,
    `ledger:${day}`,
    (held) => sumAndClose(day, held.fence, held.signal),
    {
      ttl: 60_000,
      wait: 10_000,
    },
  );
}
// #endregion with-lease

// Stand-ins for the application's own code.
export const writes: Array<{ what: string; fence: number }> = [];
async function copyRow(row: string, fence: number): Promise<void> {
  writes.push({ what: row, fence });
}
async function charge(invoiceId: string, fence: number): Promise<void> {
  writes.push({ what: invoiceId, fence });
}
async function sumAndClose(
  day: string,
  fence: number,
  signal: AbortSignal,
): Promise<number> {
  signal.throwIfAborted();
  writes.push({ what: day, fence });
  return writes.length;
}
