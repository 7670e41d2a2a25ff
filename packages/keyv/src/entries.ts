import type { Holder } from '@oncelock/core';
import { within } from '@oncelock/core/backend';
import type { Keyv } from 'keyv';

/**
 * What a held key stores. `expiresAt` is wall-clock time because it is compared by other
 * processes, possibly on other hosts: clock skew between them shifts expiry by the same amount.
 */
export interface Entry {
  readonly owner: string;
  /** Epoch ms after which the entry no longer counts, whatever the store still returns. */
  readonly expiresAt: number;
  /** Epoch ms the current owner first took the key. */
  readonly since: number;
}

/** Expired entries count as absent even where the store keeps them (Keyv over a Map or SQL). */
export function live(entry: Entry | undefined, at = Date.now()): Entry | undefined {
  return entry && entry.expiresAt > at ? entry : undefined;
}

export function holderOf(entry: Entry, at = Date.now()): Holder {
  return { owner: entry.owner, ttlRemaining: Math.max(0, entry.expiresAt - at), since: entry.since };
}

/**
 * The three Keyv calls the backend makes, each bounded by `timeout` on its own. A Redis client
 * queues commands while it reconnects, so without a bound a call could wait for as long as the
 * server is down. A call that times out may still land later; its entry then lapses at its TTL.
 * Errors are thrown as they are: `defineBackend` names the operation, package and backend.
 */
export interface Entries {
  read(key: string): Promise<Entry | undefined>;
  write(key: string, entry: Entry, ttl: number): Promise<void>;
  remove(key: string): Promise<boolean>;
}

export function keyvEntries(keyv: Keyv, prefix: string, timeout: number): Entries {
  // The braces make the stored key injective: a prefix holds no `{`, so the first `{` ends it,
  // and prefix `t:` with key `bk` can never meet prefix `t:b` with key `k`.
  const at = (key: string) => `${prefix}{${key}}`;
  return {
    async read(key) {
      return decode(key, await within(keyv.get(at(key)), timeout));
    },
    async write(key, entry, ttl) {
      // Keyv reports some failures as `false` rather than throwing.
      if ((await within(keyv.set(at(key), entry, ttl), timeout)) === false)
        throw new Error(`Keyv set "${key}" reported a failure`);
    },
    async remove(key) {
      return (await within(keyv.delete(at(key)), timeout)) === true;
    },
  };
}

/** A stored value, checked: `undefined` if absent, an error if it is not an entry this package wrote. */
function decode(key: string, value: unknown): Entry | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value as Partial<Entry>;
  if (
    typeof value !== 'object' ||
    typeof v.owner !== 'string' ||
    !Number.isFinite(v.expiresAt) ||
    !Number.isFinite(v.since)
  ) {
    throw new Error(
      `key "${key}" holds a value that is not an oncelock entry; give this backend its own prefix or namespace`,
    );
  }
  return { owner: v.owner, expiresAt: v.expiresAt as number, since: v.since as number };
}
