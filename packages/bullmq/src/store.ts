import { BackendUnavailableError, checkKey, type Holder, OncelockError } from '@oncelock/core';
import type { Policy } from './options.js';

// The few claims this package touches directly, beside core's `once` guard: refreshing a queued
// slot, parking a claim between retries, and giving up a slot. Each is one round trip; a store's
// own error becomes a typed `BackendUnavailableError`, as in core.

async function call<T>(policy: Store, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof OncelockError) throw error;
    throw new BackendUnavailableError(
      `${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        ...policy.where,
        cause: error,
      },
    );
  }
}

/** The part of a policy these calls need. */
type Store = Pick<Policy<unknown, string>, 'backend' | 'where'>;

/** Takes `key` for the job `owner` (re-entrant: refreshes the TTL if it is already the job's). */
export function claim(
  policy: Store,
  key: string,
  owner: string,
  ttl: number,
): Promise<{ granted: true } | { granted: false; holder?: Holder }> {
  checkKey(key);
  return call(policy, 'acquire', () => policy.backend.acquire({ key, owner, ttl }));
}

/** Compare-and-delete: gives up `key` only if the job `owner` holds it. */
export function unclaim(policy: Store, key: string, owner: string): Promise<boolean> {
  return call(policy, 'release', () => policy.backend.release({ key, owner }));
}
