// What to do when a lock is lost: stop, do not write, let the job fail
// and retry.
// #region lost
import {
  type Lease,
  type LockBackend,
  LockLostError,
  withLease,
} from '@oncelock/core';

export interface Store {
  /**
   * Must reject a write whose fence is older than the newest it has seen
   * (see Safety).
   */
  write(key: string, value: string, fence: number): Promise<void>;
}

export async function rebuildIndex(
  backend: LockBackend,
  store: Store,
  pages: string[],
  fetchPage: (page: string, signal: AbortSignal) => Promise<string>,
  ttl = 20_000,
): Promise<'done' | 'lost'> {
  try {
    await withLease(
      backend,
      'search-index',
      async (held: Lease) => {
        for (const page of pages) {
          // 1. Everything that can take an AbortSignal gets the lease's
          // signal.
          const body = await fetchPage(page, held.signal);
          // 2. Just before a protected write, check the lease locally (no
          // round trip)...
          held.assertHeld();
          // 3. ...and send the fence, so the store itself refuses a write
          // that arrives late.
          await store.write(page, body, held.fence);
        }
      },
      { ttl },
    );
    return 'done';
  } catch (error) {
    // 4. Lost: another worker may hold the key now. Do not retry the
    // write here and do not
    //    try to extend: give up this run and let the job's normal retry
    //    start a fresh one.
    if (
      error instanceof LockLostError ||
      (error as { cause?: unknown }).cause instanceof LockLostError
    ) {
      return 'lost';
    }
    throw error;
  }
}
// #endregion lost
