// A complete backend written with the kit: a lock table in a Map, for one
// process. Swap the
// Map for your store's atomic operations and keep the rest.
// #region backend
import type { Holder, LockBackend } from '@oncelock/core';
import {
  type AcquireRequest,
  defineBackend,
  type ExtendRequest,
  type ReleaseRequest,
} from '@oncelock/core/backend';

interface Row {
  owner: string;
  fence: number;
  until: number; // monotonic milliseconds
  since: number; // wall clock, for display only
}

export function mapBackend(): LockBackend {
  const rows = new Map<string, Row>();
  const waiters = new Map<string, Set<() => void>>();
  let lastFence = 0;
  const now = () => performance.now();

  // A row past its TTL is no row at all; whoever finds it so wakes the
  // key's waiters.
  function live(key: string): Row | undefined {
    const row = rows.get(key);
    if (row && row.until > now()) return row;
    if (row) freed(key);
    return undefined;
  }
  function freed(key: string): void {
    rows.delete(key);
    for (const wake of waiters.get(key) ?? []) queueMicrotask(wake);
  }
  const holder = (row: Row): Holder => ({
    owner: row.owner,
    fence: row.fence,
    since: row.since,
    ttlRemaining: Math.max(0, row.until - now()),
  });

  return defineBackend({
    name: 'map',
    pkg: 'my-map-backend',
    guarantees: {
      exclusion: 'strict',
      fencing: true,
      deadHolder: 'with-process',
      frozenHolder: 'not-applicable',
      releaseNotifications: true,
    },
    ops: {
      // Free, expired or already the caller's: take it (keeping the fence
      // when re-entered).
      async acquire({ key, owner, ttl }: AcquireRequest) {
        const row = live(key);
        if (row && row.owner !== owner)
          return { granted: false, holder: holder(row) };
        const fence = row?.fence ?? ++lastFence;
        rows.set(key, {
          owner,
          fence,
          until: now() + ttl,
          since: row?.since ?? Date.now(),
        });
        return { granted: true, fence };
      },
      // Compare-and-extend; the kit makes extendMany from it.
      async extend({ key, owner, ttl }: ExtendRequest) {
        const row = live(key);
        if (row?.owner !== owner) return false;
        row.until = now() + ttl;
        return true;
      },
      // Compare-and-delete.
      async release({ key, owner }: ReleaseRequest) {
        if (live(key)?.owner !== owner) return false;
        freed(key);
        return true;
      },
      async inspect(key: string) {
        const row = live(key);
        return row ? holder(row) : null;
      },
      async subscribe(key: string, wake: () => void) {
        const set = waiters.get(key) ?? new Set();
        waiters.set(key, set.add(wake));
        return () => set.delete(wake);
      },
    },
    async close() {
      rows.clear();
      waiters.clear();
    },
  });
}
// #endregion backend
