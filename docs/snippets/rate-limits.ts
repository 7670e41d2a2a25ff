// Rate limits: at most so many starts per window, across every process.
// #region wrapper
import { type LockBackend, rateLimited } from '@oncelock/core';

export interface Geocoder {
  lookup(tenant: string, address: string): Promise<string>;
}

/** At most 10 lookups a second per tenant, whichever worker asks. */
export function pacedLookups(backend: LockBackend, geo: Geocoder) {
  return rateLimited(
    (tenant: string, address: string) => geo.lookup(tenant, address),
    {
      backend,
      key: (tenant) => `geocode:${tenant}`,
      limit: 10,
      per: 1000,
      wait: 2000, // take the next free slot if it is at most 2 s away
    },
  );
}

// const r = await lookup('acme', '1 Main St');
// r: { status: 'ran', value }
//  | { status: 'cancelled', reason: 'rate-limited', retryAfter }
// #endregion wrapper

// #region call
import { rateLimit } from '@oncelock/core';

export interface Outbox {
  send(to: string): Promise<void>;
  later(to: string, delayMs: number): Promise<void>;
}

/** 70 emails a second for the whole fleet; one over it is put back. */
export async function sendOrDefer(
  backend: LockBackend,
  outbox: Outbox,
  to: string,
  signal: AbortSignal,
): Promise<'sent' | 'deferred'> {
  const r = await rateLimit(backend, 'smtp', {
    limit: 70,
    per: 1000,
    burst: 10, // 10 more at once after a quiet spell
    wait: 250, // reserve a slot up to 250 ms away and sleep until it
    signal, // an abort ends the sleep with WaitAbortedError
  });
  if (!r.allowed) {
    // The next slot is further than `wait`: put the mail back.
    await outbox.later(to, r.retryAfter);
    return 'deferred';
  }
  await outbox.send(to);
  return 'sent';
}
// #endregion call
