import type { LockBackend } from '@oncelock/core';
import type { ExtendRequest } from '@oncelock/core/backend';

/**
 * The real memory backend with faults injected at its boundary: slow replies, failing
 * extensions, and call counts. It stands for a store that is slow or unreachable.
 */
export function faulty(inner: LockBackend) {
  const state = {
    acquireDelay: 0,
    /** Set: a grant answers `validFrom` this many ms before the call, as a grant handed over at a release does. */
    handedEarlier: undefined as number | undefined,
    extendFails: false,
    extendManyCalls: 0,
    extendCalls: 0,
    extendedLeases: 0,
  };
  const backend: LockBackend = {
    ...inner,
    async acquire(req) {
      const r = await inner.acquire(req);
      if (state.acquireDelay) await new Promise((res) => setTimeout(res, state.acquireDelay));
      if (r.granted && state.handedEarlier !== undefined)
        return { ...r, validFrom: performance.now() - state.handedEarlier };
      return r;
    },
    async extend(req) {
      state.extendCalls++;
      if (state.extendFails) throw new Error('ECONNRESET');
      return inner.extend(req);
    },
    async extendMany(reqs: readonly ExtendRequest[]) {
      state.extendManyCalls++;
      state.extendedLeases += reqs.length;
      if (state.extendFails) throw new Error('ECONNRESET');
      return inner.extendMany!(reqs);
    },
  };
  return { backend, state };
}
