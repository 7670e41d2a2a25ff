import type { Holder } from './contract.js';

/** Stable machine-readable error codes; they never change between minor versions. */
export type OncelockErrorCode =
  | 'ONCELOCK_NOT_ACQUIRED'
  | 'ONCELOCK_LOST'
  | 'ONCELOCK_WAIT_TIMEOUT'
  | 'ONCELOCK_ABORTED'
  | 'ONCELOCK_INVALID_ARGUMENT'
  | 'ONCELOCK_BACKEND_UNAVAILABLE'
  | 'ONCELOCK_CLOSED'
  | 'ONCELOCK_UNSUPPORTED'
  | 'ONCELOCK_STALE_FENCE'
  | 'ONCELOCK_LIMIT_MISMATCH';

/** Where an error came from and what caused it; every oncelock error takes these. */
export interface OncelockErrorOptions {
  /** The backend's name, for the message prefix (`[@oncelock/redis redis]`). */
  backend?: string;
  /** The package that raised the error. Defaults to `@oncelock/core`. */
  pkg?: string;
  /** The error that led to this one (a client's error, a signal's reason), as the standard `Error.cause`. */
  cause?: unknown;
}

/**
 * Base class of every error oncelock throws. Match on `code` (stable) or `instanceof`;
 * the message names the package and backend so a log line says where it came from.
 */
export class OncelockError extends Error {
  /** What went wrong, stable across versions: match on this rather than on the message. */
  readonly code: OncelockErrorCode;
  /** The backend's name (`redis`, `postgres`), when the error came from one. */
  readonly backend: string | undefined;

  /**
   * @param code - The stable code of the subclass.
   * @param message - What happened; the package and backend are put before it in brackets.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(code: OncelockErrorCode, message: string, options: OncelockErrorOptions = {}) {
    const where = options.backend
      ? `${options.pkg ?? '@oncelock/core'} ${options.backend}`
      : (options.pkg ?? '@oncelock/core');
    super(`[${where}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.backend = options.backend;
  }
}

/** `wait: false` (or a `once` conflict with `onConflict: 'throw'`) found the key held. */
export class LockNotAcquiredError extends OncelockError {
  /** What the backend knows of the current holder, if anything. */
  readonly holder: Holder | undefined;
  /**
   * @param key - The key that was held.
   * @param holder - What the backend knows of the holder, if anything.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   * @param why - The end of the message after the key. Default `is held by another owner`.
   */
  constructor(
    key: string,
    holder: Holder | undefined,
    options?: OncelockErrorOptions,
    why = 'is held by another owner',
  ) {
    super('ONCELOCK_NOT_ACQUIRED', `lock "${key}" ${why}`, options);
    this.holder = holder;
  }
}

/** The lease ended before its owner released it: expired, taken over, or its store was lost. */
export class LockLostError extends OncelockError {
  /**
   * @param key - The lease's key.
   * @param why - How it was lost, in words: `its backend was closed`.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(key: string, why: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_LOST', `lease on "${key}" was lost: ${why}`, options);
  }
}

/** A `wait` ran out before the lock came free. */
export class WaitTimeoutError extends OncelockError {
  /**
   * @param key - The key that was waited for.
   * @param waitedMs - How long the wait lasted, in milliseconds (rounded in the message).
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(key: string, waitedMs: number, options?: OncelockErrorOptions) {
    super('ONCELOCK_WAIT_TIMEOUT', `gave up waiting for "${key}" after ${Math.round(waitedMs)} ms`, options);
  }
}

/** The caller's AbortSignal cancelled a wait; `cause` is the signal's reason. */
export class WaitAbortedError extends OncelockError {
  /**
   * @param key - The key that was waited for.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(key: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_ABORTED', `wait for "${key}" was aborted`, options);
  }
}

/** Bad input, refused before any round trip. */
export class InvalidArgumentError extends OncelockError {
  /**
   * @param message - What is wrong with which argument or option.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(message: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_INVALID_ARGUMENT', message, options);
  }
}

/** The store could not be reached or answered with an error. `cause` holds the client's error. */
export class BackendUnavailableError extends OncelockError {
  /**
   * @param message - The operation that failed and the store's own message.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(message: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_BACKEND_UNAVAILABLE', message, options);
  }
}

/** The backend was closed with `close()`; nothing is sent to the store. */
export class BackendClosedError extends OncelockError {
  /**
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(options?: OncelockErrorOptions) {
    super('ONCELOCK_CLOSED', 'backend is closed', options);
  }
}

/** The request needs a guarantee this backend does not give (strict exclusion, fencing, ...). */
export class CapabilityUnsupportedError extends OncelockError {
  /**
   * @param message - The guarantee that is missing and the backends that give it.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(message: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_UNSUPPORTED', message, options);
  }
}

/** A write carried a fence older than one the store has already seen. */
export class StaleFenceError extends OncelockError {
  /** The fence the refused write carried. */
  readonly fence: number;
  /** The newest fence the store had seen, when it says. */
  readonly latest: number | undefined;
  /**
   * @param resource - The name of what was written to (a table row, a file).
   * @param fence - The fence the refused write carried.
   * @param latest - The newest fence the store had seen, or `undefined` when it does not say.
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(resource: string, fence: number, latest: number | undefined, options?: OncelockErrorOptions) {
    super(
      'ONCELOCK_STALE_FENCE',
      `write to "${resource}" with fence ${fence} rejected: the store has seen ${latest ?? 'a newer fence'}`,
      options,
    );
    this.fence = fence;
    this.latest = latest;
  }
}

/**
 * Holders of one key asked with different limits (a plain lease is limit 1). The key keeps the
 * limit it is held under until its last holder releases it; fix the caller that disagrees.
 */
export class LimitMismatchError extends OncelockError {
  /** The limit the key is held under now. */
  readonly limit: number;
  /** The limit this caller asked for. */
  readonly requested: number;
  /**
   * @param key - The key held under another limit.
   * @param limit - The limit the key is held under now (1 for a plain lease).
   * @param requested - The limit this caller asked for (1 for a plain lease).
   * @param options - The package and backend the message names, and the `cause`. Optional.
   */
  constructor(key: string, limit: number, requested: number, options?: OncelockErrorOptions) {
    super(
      'ONCELOCK_LIMIT_MISMATCH',
      `"${key}" is held with limit ${limit}, but this caller asked for limit ${requested}: every holder of a key must ask with the same limit`,
      options,
    );
    this.limit = limit;
    this.requested = requested;
  }
}
