import type { LockBackend } from './backend.js';
import { BackendUnavailableError, OncelockError } from './errors.js';

/** Runs one backend operation; a store's own error becomes a typed `BackendUnavailableError`. */
export async function call<T>(backend: LockBackend, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof OncelockError) throw error;
    throw new BackendUnavailableError(
      `${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        backend: backend.name,
        pkg: backend.pkg,
        cause: error,
      },
    );
  }
}
