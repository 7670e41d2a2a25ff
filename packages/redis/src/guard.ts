import { BackendClosedError, BackendUnavailableError, OncelockError } from '@oncelock/core';
import { PKG } from './where.js';

export type Guard = <T>(what: string, op: () => Promise<T>) => Promise<T>;

/**
 * Every backend method runs through this: after close() it rejects with BackendClosedError
 * before any round trip; a client or server error becomes a BackendUnavailableError that
 * names the package and backend, with the ioredis error as its cause.
 */
export function guard(backend: string, isClosed: () => boolean): Guard {
  const where = { backend, pkg: PKG };
  return async (what, op) => {
    if (isClosed()) throw new BackendClosedError(where);
    try {
      return await op();
    } catch (error) {
      if (error instanceof OncelockError) throw error;
      // A call cut short by close() is reported as such, not as an outage.
      if (isClosed()) throw new BackendClosedError({ ...where, cause: error });
      const message = error instanceof Error ? error.message : String(error);
      throw new BackendUnavailableError(`${what} failed: ${message}`, { ...where, cause: error });
    }
  };
}
