// Telling oncelock's errors apart: by `code` (stable across versions) or
// by class.
// #region codes
import { type LockBackend, lease, OncelockError } from '@oncelock/core';

export async function tryNightly(
  backend: LockBackend,
  job: () => Promise<void>,
): Promise<string> {
  try {
    await using held = await lease(backend, 'nightly', {
      ttl: 30_000,
      wait: 2_000,
    });
    await job();
    // throws ONCELOCK_LOST if the lease ended while the job ran
    held.assertHeld();
    return 'done';
  } catch (error) {
    // the job's own failure
    if (!(error instanceof OncelockError)) throw error;
    switch (error.code) {
      // someone else held it for the whole wait
      case 'ONCELOCK_WAIT_TIMEOUT':
      case 'ONCELOCK_NOT_ACQUIRED': // wait: false and the key was held
        return 'skipped';
      // the store did not answer; error.cause has the client's error
      case 'ONCELOCK_BACKEND_UNAVAILABLE':
        return 'retry later';
      // ONCELOCK_LOST, ONCELOCK_INVALID_ARGUMENT, ONCELOCK_UNSUPPORTED,
      // ...
      default:
        throw error;
    }
  }
}
// #endregion codes
