import type { Holder } from '@oncelock/core';
import { callBackend, checkKey } from '@oncelock/core/backend';
import type { Policy } from './options.js';

// The few claims this package touches directly, beside core's `once` guard: refreshing a queued
// slot, parking a claim between retries, looking up who holds a slot, and giving up a slot. Each
// is one round trip; core's `callBackend` turns a store's own error into a typed
// `BackendUnavailableError`.

/** The part of a policy these calls need. */
type WithBackend = Pick<Policy<unknown, string>, 'backend'>;

/**
 * Takes `key` for the job `owner` (re-entrant: refreshes the TTL if it is already the job's).
 * `permit` makes it one of `limit` permits, and `waiting` also queues a refused job among the
 * key's waiters, on a store that wakes waiters one at a time.
 */
export function claim(
  policy: WithBackend,
  key: string,
  owner: string,
  ttl: number,
  permit?: { limit: number; waiting: boolean },
): Promise<{ granted: true } | { granted: false; holder?: Holder }> {
  checkKey(key);
  return callBackend(policy.backend, 'acquire', () => policy.backend.acquire({ key, owner, ttl, ...permit }));
}

/** Who holds `key` now, if anyone. */
export function holderOf(policy: WithBackend, key: string): Promise<Holder | null> {
  return callBackend(policy.backend, 'inspect', () => policy.backend.inspect(key));
}

/** Compare-and-delete: gives up `key` only if the job `owner` holds it. */
export function unclaim(policy: WithBackend, key: string, owner: string): Promise<boolean> {
  return callBackend(policy.backend, 'release', () => policy.backend.release({ key, owner }));
}
