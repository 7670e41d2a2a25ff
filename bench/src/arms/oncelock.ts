import { randomUUID } from 'node:crypto';
import { type LockBackend, tryLease } from '@oncelock/core';
import type { LockArm } from './arm.js';

/**
 * oncelock as a user calls it: `tryLease` with the default auto-extension, then `release`.
 * With `limit`, each acquire takes one of at most `limit` permits of the key.
 */
export function oncelockArm(backend: LockBackend, limit?: number): LockArm {
  return {
    async acquire(key, ttl, waitMs) {
      const wait = waitMs > 0 ? Math.ceil(waitMs) : false;
      const lease = await tryLease(backend, key, limit ? { ttl, wait, limit } : { ttl, wait });
      return lease && { release: () => lease.release() };
    },
    close: () => backend.close(),
  };
}

/**
 * The backend's own `acquire` and `release`, without `lease()` around them: the difference to
 * {@link oncelockArm} is what core adds (token, validation, lease handle, heartbeat, signal).
 * Used only to break a gap to the floor down, never as a contender.
 */
export function backendOnlyArm(backend: LockBackend): LockArm {
  return {
    async acquire(key, ttl) {
      const owner = randomUUID();
      const r = await backend.acquire({ key, owner, ttl });
      return r.granted ? { release: () => backend.release({ key, owner }) } : null;
    },
    close: () => backend.close(),
  };
}
