import { releaseOf } from './acquire.js';
import { call } from './call.js';
import type { Holder, LockBackend } from './contract.js';
import { InvalidArgumentError } from './errors.js';
import { emit, hasListeners } from './events.js';
import { describe } from './options/describe.js';
import { checkBackend, checkKey, checkOwner } from './validate.js';

/**
 * Frees `key` from `holder`, a holder of another process found with the backend's `inspect` or
 * `list`: what an operator does to a stuck lock (the CLI's `oncelock release --force`). It
 * releases as that holder (the store's compare-and-delete, a permit with its limit), so a holder
 * that took the key since is left alone, and reports a `forced` event either way, on `onEvent`
 * and on the `oncelock:event` diagnostics channel, so the act is on record. The holder finds out
 * at its next extension, which fires its lease's signal. Resolves true if the holder was removed,
 * false if it had already gone.
 *
 * @example
 * const holder = await backend.inspect('report:42');
 * if (holder) await forceRelease(backend, 'report:42', holder);
 *
 * @param backend - The store the key is held in.
 * @param key - The key, as its holder acquired it.
 * @param holder - The holder to remove, as `inspect` or `list` returned it (its `owner`, and its
 *   `limit` on a permit).
 */
export async function forceRelease(backend: LockBackend, key: string, holder: Holder): Promise<boolean> {
  checkBackend(backend);
  checkKey(key);
  if (typeof holder !== 'object' || holder === null)
    throw new InvalidArgumentError(
      `holder must be what inspect() or list() returned, got ${describe(holder)}`,
    );
  const { owner, fence, limit } = holder;
  checkOwner(owner);
  const released = await call(backend, 'release', () => backend.release(releaseOf({ key, owner, limit })));
  if (hasListeners()) emit({ type: 'forced', backend: backend.name, key, owner, fence, released });
  return released;
}
