import { unavailable } from './backend-kit/failure.js';
import type { LockBackend } from './contract.js';

/**
 * Runs one backend operation; a store's own error becomes a typed `BackendUnavailableError`.
 * Backends made with `defineBackend` do this themselves; this guards hand-written ones.
 *
 * @typeParam T - What the operation resolves to.
 * @param backend - The backend the operation runs on; its `name` and `pkg` go in the message.
 * @param what - The operation's name for the message: `acquire`, `inspect`.
 * @param op - Starts the operation; a throw or a rejection becomes the typed error.
 */
export async function call<T>(backend: LockBackend, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw unavailable({ backend: backend.name, pkg: backend.pkg }, what, error);
  }
}
