import { BackendUnavailableError, type Holder } from '@oncelock/core';
import { where } from './where.js';

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

/** A stored value, checked: `undefined` if absent, an error if it is not an entry this package wrote. */
export function decode(key: string, value: unknown): Entry | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value as Partial<Entry>;
  if (
    typeof value !== 'object' ||
    typeof v.owner !== 'string' ||
    !Number.isFinite(v.expiresAt) ||
    !Number.isFinite(v.since)
  ) {
    throw new BackendUnavailableError(
      `key "${key}" holds a value that is not an oncelock entry; give this backend its own prefix or namespace`,
      where,
    );
  }
  return { owner: v.owner, expiresAt: v.expiresAt as number, since: v.since as number };
}

/** Expired entries count as absent even where the store keeps them (Keyv over a Map or SQL). */
export function live(entry: Entry | undefined, at = Date.now()): Entry | undefined {
  return entry && entry.expiresAt > at ? entry : undefined;
}

export function holderOf(entry: Entry, at = Date.now()): Holder {
  return { owner: entry.owner, ttlRemaining: Math.max(0, entry.expiresAt - at), since: entry.since };
}
