// Per-item locks: many workers share one list of items; each item is
// worked by one at a time.
// #region per-item
import { joinKey, type LockBackend, tryLease } from '@oncelock/core';

export interface Invoice {
  id: number;
  amount: number;
}

export interface Billing {
  /**
   * Reads the invoice's current state: another worker may have charged it
   * a moment ago.
   */
  isDue(invoice: Invoice): Promise<boolean>;
  /**
   * Charges and marks the invoice paid, in a write that carries the
   * fence.
   */
  charge(invoice: Invoice, fence: number): Promise<void>;
}

export async function chargeAll(
  backend: LockBackend,
  invoices: Invoice[],
  billing: Billing,
) {
  const outcome = { charged: 0, busy: 0, alreadyPaid: 0 };
  // Leases are extended by one heartbeat per backend, in batches: holding
  // hundreds is cheap.
  await Promise.all(
    invoices.map(async (invoice) => {
      const held = await tryLease(
        backend,
        joinKey('invoice', invoice.id),
        { ttl: 15_000 },
      );
      if (held === null) {
        outcome.busy++; // another worker has this one right now
        return;
      }
      try {
        // The lock stops two workers at once; only a fresh read stops a
        // second charge later.
        if (!(await billing.isDue(invoice))) {
          outcome.alreadyPaid++;
          return;
        }
        await billing.charge(invoice, held.fence);
        outcome.charged++;
      } finally {
        await held.release();
      }
    }),
  );
  return outcome;
}
// #endregion per-item
