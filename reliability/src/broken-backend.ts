import { BackendClosedError, type LockBackend } from '@oncelock/core';

/**
 * Deliberately broken locks, the lab's negative controls: if the checks pass these, they can
 * pass anything. `no-lock` grants every request (no exclusion, no fences); `one-fence` also
 * grants every request but claims strict exclusion and fencing, handing out fence 1 every time.
 */
export function brokenBackend(flaw: 'no-lock' | 'one-fence'): LockBackend {
  const where = { backend: `broken-${flaw}`, pkg: '@oncelock/reliability' };
  const lies = flaw === 'one-fence';
  let closed = false;
  const open = () => {
    if (closed) throw new BackendClosedError(where);
  };
  return {
    name: where.backend,
    pkg: where.pkg,
    guarantees: {
      exclusion: lies ? 'strict' : 'best-effort',
      fencing: lies,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: false,
    },
    async acquire() {
      open();
      return lies ? { granted: true, fence: 1 } : { granted: true };
    },
    async extend() {
      open();
      return true;
    },
    async release() {
      open();
      return true;
    },
    async inspect() {
      open();
      return null;
    },
    async close() {
      closed = true;
    },
  };
}
