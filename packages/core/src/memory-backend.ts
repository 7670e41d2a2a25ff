import { defineBackend } from './backend-kit/define.js';
import type {
  AcquireRequest,
  AcquireResult,
  ExtendRequest,
  Holder,
  LockBackend,
  ReleaseRequest,
  Unsubscribe,
} from './contract.js';
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
  clock: func<() => number>('a function that returns milliseconds').default(() => performance.now()),
};

interface Entry {
  owner: string;
  fence: number;
  expiresAt: number;
  since: number;
}

/**
 * The embedded default: a lock table in this process's memory. Strict mutual exclusion and
 * strictly increasing fences among everything that shares this backend object, TTLs, and
 * instant release notifications. It coordinates nothing across processes: for that, use Redis
 * or Postgres. A crashed process takes its locks with it.
 */
export function memoryBackend(options?: MemoryBackendOptions): LockBackend {
  return memoryBackendFor('@oncelock/core', options);
}

/** {@link memoryBackend} under the name of the package that ships it, for its error messages. */
export function memoryBackendFor(pkg: string, options?: MemoryBackendOptions): LockBackend {
  const { clock } = readOptions(options, memoryOptions, { pkg, call: 'memoryBackend()' });
  const table = new Map<string, Entry>();
  const watchers = new Map<string, Set<() => void>>();
  // One counter for all keys: strictly increasing per key, and nothing to keep per key.
  let lastFence = 0;

  function live(key: string): Entry | undefined {
    const entry = table.get(key);
    if (entry && entry.expiresAt <= clock()) {
      table.delete(key);
      notify(key);
      return undefined;
    }
    return entry;
  }

  function notify(key: string): void {
    const set = watchers.get(key);
    if (!set) return;
    for (const fn of set) queueMicrotask(fn);
  }

  function holderOf(entry: Entry): Holder {
    return {
      owner: entry.owner,
      fence: entry.fence,
      ttlRemaining: Math.max(0, entry.expiresAt - clock()),
      since: entry.since,
    };
  }

  function extendOne({ key, owner, ttl }: ExtendRequest): boolean {
    const entry = live(key);
    if (!entry || entry.owner !== owner) return false;
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
    },
    ops: {
      async acquire({ key, owner, ttl }: AcquireRequest): Promise<AcquireResult> {
        const entry = live(key);
        if (entry && entry.owner !== owner) return { granted: false, holder: holderOf(entry) };
        if (entry) {
          entry.expiresAt = clock() + ttl;
          return { granted: true, fence: entry.fence };
        }
        const fresh = { owner, fence: ++lastFence, expiresAt: clock() + ttl, since: Date.now() };
        table.set(key, fresh);
        return { granted: true, fence: fresh.fence };
      },

      async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
        return requests.map(extendOne);
      },

      async release({ key, owner }: ReleaseRequest): Promise<boolean> {
        const entry = live(key);
        if (!entry || entry.owner !== owner) return false;
        table.delete(key);
        notify(key);
        return true;
      },

      async inspect(key: string): Promise<Holder | null> {
        const entry = live(key);
        return entry ? holderOf(entry) : null;
      },

      async list(prefix = ''): Promise<Array<Holder & { key: string }>> {
        const out: Array<Holder & { key: string }> = [];
        for (const key of [...table.keys()]) {
          const entry = key.startsWith(prefix) ? live(key) : undefined;
          if (entry) out.push({ key, ...holderOf(entry) });
        }
        return out;
      },

      async subscribe(key: string, listener: () => void): Promise<Unsubscribe> {
        const set = watchers.get(key) ?? new Set<() => void>();
        watchers.set(key, set);
        set.add(listener);
        return () => {
          set.delete(listener);
          if (set.size === 0 && watchers.get(key) === set) watchers.delete(key);
        };
      },
    },
    async close(): Promise<void> {
      table.clear();
      watchers.clear();
    },
  });
}
