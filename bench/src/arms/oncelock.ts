import { type LockBackend, tryLease } from '@oncelock/core';
import type { LockArm } from './arm.js';

/** oncelock as a user calls it: `tryLease` with the default auto-extension, then `release`. */
export function oncelockArm(backend: LockBackend): LockArm {
  return {
    async acquire(key, ttl, waitMs) {
      const lease = await tryLease(backend, key, { ttl, wait: waitMs > 0 ? Math.ceil(waitMs) : false });
      return lease && { release: () => lease.release() };
    },
    close: () => backend.close(),
  };
}

/**
 * A backend factory exported by a package that may not be built yet in this checkout (the
 * backends and the bench are written side by side): undefined until it is there.
 */
export async function factoryFrom<O>(
  load: () => Promise<Record<string, unknown>>,
  name: string,
): Promise<((options: O) => LockBackend) | undefined> {
  try {
    const mod = await load();
    const f = mod[name];
    return typeof f === 'function' ? (f as (options: O) => LockBackend) : undefined;
  } catch {
    return undefined;
  }
}
