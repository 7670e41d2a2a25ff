import { InvalidArgumentError } from '@oncelock/core';
import type { ExtendRequest } from '@oncelock/core/backend';
import { PKG } from './options.js';

/**
 * PostgreSQL text cannot hold NUL, which core's key check allows: refuse it with a typed error
 * before any round trip rather than let the server fail the statement.
 */
export function storable(
  value: string,
  what: 'key' | 'owner' | 'key prefix' | 'topic' | 'state value',
): string {
  if (value.includes('\0'))
    throw new InvalidArgumentError(`${what} contains a NUL character, which PostgreSQL text cannot store`, {
      pkg: PKG,
    });
  return value;
}

/**
 * {@link storable} for a request's key and owner; returns the request. The empty owner (which
 * core never makes) is refused too: it marks a key held by permits (see permit-functions.ts).
 */
export function storablePair<R extends { key: string; owner: string }>(request: R): R {
  storable(request.key, 'key');
  storable(request.owner, 'owner');
  if (request.owner === '') throw new InvalidArgumentError('owner must not be empty', { pkg: PKG });
  return request;
}

/** One string per (key, owner), for maps keyed by both. */
export const pairKey = (key: string, owner: string): string => JSON.stringify([key, owner]);

/**
 * One row per (key, owner) for a batched extend: an UPDATE ... FROM joins a target row to one
 * source row only, so a pair asked for twice would read as lost the second time. `slot[i]` is
 * request i's 1-based position in `unique`; the last TTL asked for a pair wins.
 */
export function uniquePairs(requests: readonly ExtendRequest[]): { unique: ExtendRequest[]; slot: number[] } {
  const positions = new Map<string, number>();
  const unique: ExtendRequest[] = [];
  const slot = requests.map((r) => {
    storablePair(r);
    const pair = pairKey(r.key, r.owner);
    const at = positions.get(pair);
    if (at !== undefined) {
      unique[at - 1] = r;
      return at;
    }
    positions.set(pair, unique.push(r));
    return unique.length;
  });
  return { unique, slot };
}
