import { BackendUnavailableError, OncelockError, type OncelockErrorOptions } from '../errors.js';

/** The package and backend an error comes from. */
export interface Where {
  /** The package the user installed: `@oncelock/redis`. */
  readonly pkg: string;
  /** The backend's name: `redis-cluster`, `postgres`. */
  readonly backend: string;
}

/**
 * A store's own error as a typed `BackendUnavailableError` naming `what` failed, the package and
 * the backend, with the client's error as its cause. An oncelock error passes through unchanged.
 *
 * @param where - The package and the backend the message names.
 * @param what - The operation that failed, as the message begins: `acquire`, `migrate`.
 * @param error - What the store's client threw or rejected with; it becomes the `cause`.
 */
export function unavailable(
  where: Where | OncelockErrorOptions,
  what: string,
  error: unknown,
): OncelockError {
  if (error instanceof OncelockError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendUnavailableError(`${what} failed: ${message}`, { ...where, cause: error });
}
