// once(): the four modes around a plain async function, and the claim
// primitives a queue uses.
// #region run
import { type LockBackend, once } from '@oncelock/core';

export async function nightlyRollup(backend: LockBackend, day: string) {
  const guard = once(backend, {
    key: `rollup:${day}`,
    mode: 'whileRunning',
    ttl: 30_000,
  });
  const result = await guard.run(async ({ signal }) => {
    signal.throwIfAborted(); // aborts if the running claim is lost
    return summarise(day);
  });
  // another process runs it right now
  if (result.status === 'cancelled') return null;
  return result.value;
}
// #endregion run

// #region conflicts
export function guards(backend: LockBackend) {
  return {
    // The default: a duplicate resolves { status: 'cancelled', reason:
    // 'locked' }.
    skip: once(backend, { key: 'sync', mode: 'whileRunning' }),
    // A duplicate throws LockNotAcquiredError (code
    // ONCELOCK_NOT_ACQUIRED).
    fail: once(backend, {
      key: 'sync',
      mode: 'whileRunning',
      onConflict: 'throw',
    }),
    // A duplicate waits up to 20 s for its turn, then throws
    // WaitTimeoutError.
    queue: once(backend, {
      key: 'sync',
      mode: 'whileRunning',
      onConflict: 'wait',
      wait: 20_000,
    }),
  };
}
// #endregion conflicts

async function summarise(day: string): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return day.length;
}
