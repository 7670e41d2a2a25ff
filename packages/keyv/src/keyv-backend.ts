import {
  type AcquireResult,
  BackendUnavailableError,
  type Holder,
  InvalidArgumentError,
  type LockBackend,
} from '@oncelock/core';
import {
  type AcquireRequest,
  defineBackend,
  type ExtendRequest,
  type ReleaseRequest,
  readOptions,
} from '@oncelock/core/backend';
import { type Entry, holderOf, keyvEntries, live } from './entries.js';
import { type KeyvBackendOptions, keyvOptions } from './options.js';

/** Names this backend in every error it raises: `[@oncelock/keyv keyv] ...`. */
const where = { backend: 'keyv', pkg: '@oncelock/keyv' } as const;

/** Reads that came back too late to act on, in a row, before a call gives up with an error. */
const FRESH_READ_ATTEMPTS = 8;

/**
 * oncelock over any Keyv store. Keyv has no set-if-absent and no compare-and-set, so every
 * operation is a read followed by a separate write: two contenders can both see a key free and
 * both write it. Acquire narrows that window by writing, waiting `settle` ms and reading back
 * (`confirmations` times): whoever wrote last wins, and an earlier writer sees that and backs
 * off; and no read that came back later than `settle × confirmations` is acted on. A write
 * delayed in transit or inside the store for longer than the read-backs take still slips
 * through, so exclusion is best effort and there are no fences; core refuses requests that
 * need more.
 *
 * @param options - The Keyv `store` (required, made to throw its errors), and optionally
 *   `prefix` (default `oncelock:`), `settle` (milliseconds, default 5), `confirmations`
 *   (default 2), `timeout` (milliseconds per Keyv call, default 5000) and `closeStore`
 *   (default `false`).
 */
export function keyvBackend(options: KeyvBackendOptions): LockBackend {
  const o = readOptions(options, keyvOptions, { ...where, call: 'keyvBackend()' }, true);
  // Each Keyv call is bounded on its own (see `timeout`), so the kit is given no timeout per operation.
  const entries = keyvEntries(o.store, o.prefix, o.timeout);

  /** Our entry stays live for longer than a write takes to land, so no contender sees it expire first. */
  const safeAhead = (entry: Entry) => entry.expiresAt - Date.now() > o.settle;

  /**
   * How long a read may be acted on. A contender that wrote before us reads back for
   * `settle × confirmations` ms; a write or delete of ours that lands later, decided on a read
   * taken before that contender's write, undoes an entry its writer has already confirmed. So a
   * read that came back later than that (a GC pause, a busy event loop, a slow store) is not
   * acted on but taken again.
   */
  const freshFor = o.settle * o.confirmations;

  /**
   * Reads `key` before a write or delete that depends on what it shows. A read showing another
   * owner leads to no write and may be stale; one showing the key free or ours must be fresh.
   */
  async function readToWrite(key: string, owner: string): Promise<Entry | undefined> {
    let slowest = 0;
    for (let attempt = 0; attempt < FRESH_READ_ATTEMPTS; attempt++) {
      const sent = performance.now();
      const current = live(await entries.read(key));
      const age = performance.now() - sent;
      if ((current && current.owner !== owner) || freshFor === 0 || age <= freshFor) return current;
      slowest = Math.max(slowest, age);
    }
    throw new BackendUnavailableError(
      `${FRESH_READ_ATTEMPTS} reads of "${key}" in a row took longer than settle × confirmations ` +
        `(${freshFor} ms, up to ${Math.round(slowest)} ms): raise \`settle\` well above the store's round-trip time`,
      where,
    );
  }

  /** True if `owner`'s write is still what every read-back sees; otherwise what was seen instead. */
  async function confirm(key: string, owner: string): Promise<{ ok: true } | { ok: false; holder?: Holder }> {
    for (let i = 0; i < o.confirmations; i++) {
      if (o.settle > 0) await new Promise((resolve) => setTimeout(resolve, o.settle));
      const seen = live(await entries.read(key));
      if (!seen) return { ok: false };
      if (seen.owner !== owner) return { ok: false, holder: holderOf(seen) };
    }
    return { ok: true };
  }

  return defineBackend({
    name: where.backend,
    pkg: where.pkg,
    guarantees: {
      exclusion: 'best-effort',
      fencing: false,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: false,
    },

    ops: {
      async acquire({ key, owner, ttl }: AcquireRequest): Promise<AcquireResult> {
        // Our own entry would expire while we read it back, and every acquire would be refused.
        if (ttl <= freshFor) {
          throw new InvalidArgumentError(
            `ttl ${ttl} ms must be longer than settle × confirmations (${freshFor} ms), the time acquire reads back`,
            where,
          );
        }
        const current = await readToWrite(key, owner);
        if (current && current.owner !== owner) return { granted: false, holder: holderOf(current) };
        // Re-entrant: the same owner keeps its `since` and restarts its TTL.
        const at = Date.now();
        await entries.write(key, { owner, expiresAt: at + ttl, since: current?.since ?? at }, ttl);
        const seen = await confirm(key, owner);
        return seen.ok ? { granted: true } : { granted: false, ...(seen.holder && { holder: seen.holder }) };
      },

      async extend({ key, owner, ttl }: ExtendRequest): Promise<boolean> {
        const current = await readToWrite(key, owner);
        // Too close to expiry, a contender may take the key before this write lands: call it lost.
        if (!current || current.owner !== owner || !safeAhead(current)) return false;
        await entries.write(key, { owner, expiresAt: Date.now() + ttl, since: current.since }, ttl);
        return true;
      },

      async release({ key, owner }: ReleaseRequest): Promise<boolean> {
        const current = await readToWrite(key, owner);
        if (!current || current.owner !== owner) return false;
        // About to expire: a delete could land after a contender's write and remove it. Let it lapse.
        if (!safeAhead(current)) return true;
        return entries.remove(key);
      },

      async inspect(key: string): Promise<Holder | null> {
        const current = live(await entries.read(key));
        return current ? holderOf(current) : null;
      },
    },
    close: o.closeStore ? () => o.store.disconnect() : undefined,
  });
}
