import { BackendUnavailableError, OncelockError } from '@oncelock/core';
import type { Keyv } from 'keyv';
import { decode, type Entry } from './entry.js';
import { where } from './where.js';

/**
 * The three Keyv calls the backend makes, each bounded by `timeout` and failing with a typed
 * error. A Redis client queues commands while it reconnects, so without a bound a call could
 * wait for as long as the server is down. A call that times out may still land later; its
 * entry then lapses at its TTL.
 */
export interface EntryStore {
  read(key: string): Promise<Entry | undefined>;
  write(key: string, entry: Entry, ttl: number): Promise<void>;
  remove(key: string): Promise<boolean>;
}

export function entryStore(keyv: Keyv, prefix: string, timeout: number): EntryStore {
  // The braces make the stored key injective: a prefix holds no `{`, so the first `{` ends it,
  // and prefix `t:` with key `bk` can never meet prefix `t:b` with key `k`.
  const at = (key: string) => `${prefix}{${key}}`;
  return {
    async read(key) {
      return decode(key, await bounded(`get "${key}"`, timeout, () => keyv.get(at(key))));
    },
    async write(key, entry, ttl) {
      const ok = await bounded(`set "${key}"`, timeout, () => keyv.set(at(key), entry, ttl));
      // Keyv reports some failures as `false` rather than throwing.
      if (ok === false) throw new BackendUnavailableError(`Keyv set "${key}" reported a failure`, where);
    },
    async remove(key) {
      return (await bounded(`delete "${key}"`, timeout, () => keyv.delete(at(key)))) === true;
    },
  };
}

async function bounded<T>(what: string, ms: number, op: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendUnavailableError(`Keyv ${what} took longer than ${ms} ms`, where)),
      ms,
    );
  });
  try {
    // race() subscribes to both, so a call that fails after the timeout is not an unhandled rejection.
    return await Promise.race([(async () => op())(), late]);
  } catch (error) {
    if (error instanceof OncelockError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new BackendUnavailableError(`Keyv ${what} failed: ${message}`, { ...where, cause: error });
  } finally {
    clearTimeout(timer);
  }
}
