// pg-boss's queue policies, written as once modes: the singletonKey
// becomes the key, the policy becomes the mode. Used by
// guide/comparisons.md.
import { type LockBackend, type OnceMode, once } from '@oncelock/core';

/** The once mode closest to each pg-boss queue policy. */
export const modeFor = {
  short: 'untilRunning', // one queued; any number running
  singleton: 'whileRunning', // one running
  stately: 'queuedAndRunning', // one queued plus one running
  exclusive: 'untilDone', // one, queued or running
} as const satisfies Record<string, OnceMode>;

export async function refreshOnce(
  backend: LockBackend,
  policy: keyof typeof modeFor,
  singletonKey: string,
  refresh: (signal: AbortSignal) => Promise<void>,
): Promise<'ran' | 'skipped'> {
  const guard = once(backend, {
    key: `refresh:${singletonKey}`,
    mode: modeFor[policy],
    // the running claim lives 30 s past the last heartbeat, not
    // until an expiry check finds the job
    ttl: 30_000,
  });
  const result = await guard.run(({ signal }) => refresh(signal));
  // where pg-boss's send() resolves null, run() says who holds the key
  return result.status === 'ran' ? 'ran' : 'skipped';
}
