import { defineBackend } from './backend-kit/define.js';
import { now } from './clock.js';
import type {
  AcquireRequest,
  AcquireResult,
  ExtendRequest,
  Holder,
  LockBackend,
  RateDecision,
  RateRequest,
  ReleaseRequest,
  SavedState,
  SaveStateRequest,
  Unsubscribe,
} from './contract.js';
import { MAX_LIMIT } from './contract.js';
import { gcra } from './gcra.js';
import { Listeners } from './listeners.js';
import { func } from './options/kinds.js';
import { readOptions } from './options/read.js';

/** Options of {@link memoryBackend}. */
export interface MemoryBackendOptions {
  /**
   * The clock the store measures TTLs with, in milliseconds. Defaults to the monotonic clock.
   * Tests pass a fake one to drive expiry without waiting.
   */
  clock?: () => number;
}

const memoryOptions = {
  clock: func<() => number>('a function that returns milliseconds').default(now),
};

interface Entry {
  owner: string;
  fence: number;
  expiresAt: number;
  since: number;
}

/** A key held by permits: at most `limit` entries, one per owner. */
interface Permits {
  readonly limit: number;
  readonly holders: Map<string, Entry>;
}

/** A plain lease is one entry; a key held by permits keeps them all. */
type Slot = Entry | Permits;
const isPermits = (slot: Slot): slot is Permits => 'holders' in slot;

/**
 * The embedded default: a lock table in this process's memory. Strict mutual exclusion and
 * strictly increasing fences among everything that shares this backend object, TTLs, and
 * instant release notifications. It coordinates nothing across processes: for that, use Redis
 * or Postgres. A crashed process takes its locks with it.
 *
 * @param options - The clock. Optional: by default TTLs run on `performance.now()`.
 */
export function memoryBackend(options?: MemoryBackendOptions): LockBackend {
  return memoryBackendFor('@oncelock/core', options);
}

/**
 * {@link memoryBackend} under the name of the package that ships it, for its error messages.
 *
 * @param pkg - The package name its errors give: `@oncelock/memory`.
 * @param options - As for {@link memoryBackend}. Optional.
 */
export function memoryBackendFor(pkg: string, options?: MemoryBackendOptions): LockBackend {
  const { clock } = readOptions(options, memoryOptions, { pkg, call: 'memoryBackend()' });
  const table = new Map<string, Slot>();
  const watchers = new Listeners();
  const topics = new Listeners();
  // Rate state: each key's theoretical arrival time; saved loop state by key.
  const rates = new Map<string, number>();
  const states = new Map<string, SavedState>();
  // One counter for all keys: strictly increasing per key, and nothing to keep per key.
  let lastFence = 0;

  /** The key's slot without its expired grants; the key's watchers hear of any that ended. */
  function live(key: string): Slot | undefined {
    const slot = table.get(key);
    if (!slot) return undefined;
    const t = clock();
    let ended = false;
    if (isPermits(slot)) {
      for (const [owner, entry] of slot.holders) {
        if (entry.expiresAt > t) continue;
        slot.holders.delete(owner);
        ended = true;
      }
      if (slot.holders.size === 0) table.delete(key);
    } else if (slot.expiresAt <= t) {
      table.delete(key);
      ended = true;
    }
    if (ended) watchers.call(key);
    return table.get(key);
  }

  /** `owner`'s grant on `key`, if it holds one of the kind asked for (a permit under `limit`, or a lease). */
  function grantOf(key: string, owner: string, limit: number | undefined): Entry | undefined {
    const slot = live(key);
    if (!slot) return undefined;
    if (isPermits(slot)) return slot.limit === limit ? slot.holders.get(owner) : undefined;
    return limit === undefined && slot.owner === owner ? slot : undefined;
  }

  function holderOf(entry: Entry, limit?: number): Holder {
    const holder = {
      owner: entry.owner,
      fence: entry.fence,
      ttlRemaining: Math.max(0, entry.expiresAt - clock()),
      since: entry.since,
    };
    return limit === undefined ? holder : { ...holder, limit };
  }

  /** Every holder of a slot, oldest grant first. */
  function holdersOf(slot: Slot): Holder[] {
    if (!isPermits(slot)) return [holderOf(slot)];
    return [...slot.holders.values()].sort((a, b) => a.fence - b.fence).map((e) => holderOf(e, slot.limit));
  }

  /** A refusal names the holder whose grant ends first: a waiter sleeps no longer than that. */
  function refusal(slot: Slot): Extract<AcquireResult, { granted: false }> {
    if (!isPermits(slot)) return { granted: false, holder: holderOf(slot) };
    let first: Entry | undefined;
    for (const entry of slot.holders.values()) if (!first || entry.expiresAt < first.expiresAt) first = entry;
    return { granted: false, holder: holderOf(first!, slot.limit), limit: slot.limit };
  }

  function extendOne({ key, owner, ttl, limit }: ExtendRequest): boolean {
    const entry = grantOf(key, owner, limit);
    if (!entry) return false;
    entry.expiresAt = clock() + ttl;
    return true;
  }

  return defineBackend({
    name: 'memory',
    pkg,
    guarantees: {
      exclusion: 'strict',
      fencing: true,
      deadHolder: 'with-process',
      frozenHolder: 'not-applicable',
      releaseNotifications: true,
      maxLimit: MAX_LIMIT,
    },
    ops: {
      async acquire({ key, owner, ttl, limit }: AcquireRequest): Promise<AcquireResult> {
        const slot = live(key);
        if (slot) {
          const heldUnder = isPermits(slot) ? slot.limit : 1;
          if (heldUnder !== (limit ?? 1)) return { ...refusal(slot), limit: heldUnder };
          const mine = grantOf(key, owner, limit);
          if (mine) {
            // Re-entrant: the same owner keeps its fence and restarts its TTL.
            mine.expiresAt = clock() + ttl;
            return { granted: true, fence: mine.fence };
          }
          if (!isPermits(slot) || slot.holders.size >= slot.limit) return refusal(slot);
        }
        const fresh = { owner, fence: ++lastFence, expiresAt: clock() + ttl, since: Date.now() };
        if (limit === undefined) table.set(key, fresh);
        else {
          const permits = slot && isPermits(slot) ? slot : { limit, holders: new Map<string, Entry>() };
          permits.holders.set(owner, fresh);
          table.set(key, permits);
        }
        return { granted: true, fence: fresh.fence };
      },

      async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
        return requests.map(extendOne);
      },

      async release({ key, owner, limit }: ReleaseRequest): Promise<boolean> {
        const entry = grantOf(key, owner, limit);
        if (!entry) return false;
        const slot = table.get(key)!;
        if (isPermits(slot)) slot.holders.delete(owner);
        if (!isPermits(slot) || slot.holders.size === 0) table.delete(key);
        watchers.call(key);
        return true;
      },

      async inspect(key: string): Promise<Holder | null> {
        const slot = live(key);
        if (!slot) return null;
        const holders = holdersOf(slot);
        return isPermits(slot) ? { ...holders[0]!, holders } : holders[0]!;
      },

      async list(prefix = ''): Promise<Array<Holder & { key: string }>> {
        const out: Array<Holder & { key: string }> = [];
        for (const key of [...table.keys()]) {
          const slot = key.startsWith(prefix) ? live(key) : undefined;
          if (slot) for (const holder of holdersOf(slot)) out.push({ key, ...holder });
        }
        return out;
      },

      async subscribe(key: string, listener: () => void): Promise<Unsubscribe> {
        return watchers.add(key, listener);
      },

      async rateLimit(request: RateRequest): Promise<RateDecision> {
        const now = clock();
        const { decision, tat } = gcra(rates.get(request.key), now, request);
        if (tat > now) rates.set(request.key, tat);
        else rates.delete(request.key);
        return decision;
      },

      async notify(topic: string): Promise<void> {
        topics.call(topic);
      },

      async listen(topic: string, listener: () => void): Promise<Unsubscribe> {
        return topics.add(topic, listener);
      },

      async saveState({ key, owner, fence, value }: SaveStateRequest): Promise<boolean> {
        const saved = states.get(key);
        if (!grantOf(key, owner, undefined) || (saved?.fence ?? 0) > (fence ?? 0)) return false;
        states.set(key, { value, fence: fence ?? 0, savedAt: Date.now() });
        return true;
      },

      async loadState(key: string): Promise<SavedState | null> {
        return states.get(key) ?? null;
      },

      async deleteState(key: string): Promise<boolean> {
        return states.delete(key);
      },
    },
    async close(): Promise<void> {
      table.clear();
      watchers.clear();
      topics.clear();
      rates.clear();
      states.clear();
    },
  });
}
