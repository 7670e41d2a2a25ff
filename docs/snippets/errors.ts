// Telling oncelock's errors apart: by `code` (stable across versions) or by class.
import { type LockBackend, lease, OncelockError } from '@oncelock/core';

// #region codes
export async function tryNightly(backend: LockBackend, job: () => Promise<void>): Promise<string> {
  try {
    await using held = await lease(backend, 'nightly', { ttl: 30_000, wait: 2_000 });
    await job();
    held.assertHeld(); // throws ONCELOCK_LOST if the lease ended while the job ran
    return 'done';
  } catch (error) {
    if (!(error instanceof OncelockError)) throw error; // the job's own failure
    switch (error.code) {
      case 'ONCELOCK_WAIT_TIMEOUT': // someone else held it for the whole wait
      case 'ONCELOCK_NOT_ACQUIRED': // wait: false and the key was held
        return 'skipped';
      case 'ONCELOCK_BACKEND_UNAVAILABLE': // the store did not answer; error.cause has the client's error
        return 'retry later';
      default: // ONCELOCK_LOST, ONCELOCK_INVALID_ARGUMENT, ONCELOCK_UNSUPPORTED, ...
        throw error;
    }
  }
}
// #endregion codes
