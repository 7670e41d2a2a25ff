import type { LockBackend } from '../contract.js';
import { CapabilityUnsupportedError } from '../errors.js';

/** The optional operations loops use: wake-ups and the saved cursor. */
type LoopOp = 'notify' | 'listen' | 'saveState' | 'loadState' | 'deleteState';

/**
 * Throws `CapabilityUnsupportedError`, before any round trip, if `backend` lacks one of `ops`.
 *
 * @param backend - The backend to check.
 * @param ops - The optional operations the call needs.
 * @param what - What the caller wanted, for the message: `wake-ups`, `a saved cursor`.
 */
export function needs(backend: LockBackend, ops: readonly LoopOp[], what: string): void {
  const missing = ops.filter((op) => typeof backend[op] !== 'function');
  if (missing.length === 0) return;
  throw new CapabilityUnsupportedError(
    `this backend has no ${missing.join('/')}, so it cannot serve ${what}; memoryBackend, redisBackend and postgresBackend do`,
    { backend: backend.name, pkg: backend.pkg },
  );
}
