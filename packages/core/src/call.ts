import { unavailable } from './backend-kit/failure.js';
import type { LockBackend } from './contract.js';

/** Backends made by `defineBackend`, which type their errors themselves. */
const guarded = new WeakSet<LockBackend>();

/**
 * Marks a backend whose operations already turn store errors into typed ones, so that
 * {@link call} adds no second wrapper (a promise and a turn of the event loop a call).
 *
 * @param backend - A backend made by `defineBackend`.
 */
export function markGuarded(backend: LockBackend): void {
  guarded.add(backend);
}

/**
 * Runs one backend operation; a store's own error becomes a typed `BackendUnavailableError`.
 * Backends made with `defineBackend` do this themselves, and go straight through; this guards
 * hand-written ones.
 *
 * @typeParam T - What the operation resolves to.
 * @param backend - The backend the operation runs on; its `name` and `pkg` go in the message.
 * @param what - The operation's name for the message: `acquire`, `inspect`.
 * @param op - Starts the operation; a throw or a rejection becomes the typed error.
 */
export function call<T>(backend: LockBackend, what: string, op: () => Promise<T>): Promise<T> {
  return guarded.has(backend) ? op() : wrapped(backend, what, op);
}

async function wrapped<T>(backend: LockBackend, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw unavailable({ backend: backend.name, pkg: backend.pkg }, what, error);
  }
}
