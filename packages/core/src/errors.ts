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
  cause?: unknown;
}

/**
 * Base class of every error oncelock throws. Match on `code` (stable) or `instanceof`;
 * the message names the package and backend so a log line says where it came from.
 */
export class OncelockError extends Error {
  readonly code: OncelockErrorCode;
  readonly backend: string | undefined;

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
  constructor(key: string, why: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_LOST', `lease on "${key}" was lost: ${why}`, options);
  }
}

/** A `wait` ran out before the lock came free. */
export class WaitTimeoutError extends OncelockError {
  constructor(key: string, waitedMs: number, options?: OncelockErrorOptions) {
    super('ONCELOCK_WAIT_TIMEOUT', `gave up waiting for "${key}" after ${Math.round(waitedMs)} ms`, options);
  }
}

/** The caller's AbortSignal cancelled a wait; `cause` is the signal's reason. */
export class WaitAbortedError extends OncelockError {
  constructor(key: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_ABORTED', `wait for "${key}" was aborted`, options);
  }
}

/** Bad input, refused before any round trip. */
export class InvalidArgumentError extends OncelockError {
  constructor(message: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_INVALID_ARGUMENT', message, options);
  }
}

/** The store could not be reached or answered with an error. `cause` holds the client's error. */
export class BackendUnavailableError extends OncelockError {
  constructor(message: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_BACKEND_UNAVAILABLE', message, options);
  }
}

/** The backend was closed with `close()`; nothing is sent to the store. */
export class BackendClosedError extends OncelockError {
  constructor(options?: OncelockErrorOptions) {
    super('ONCELOCK_CLOSED', 'backend is closed', options);
  }
}

/** The request needs a guarantee this backend does not give (strict exclusion, fencing, ...). */
export class CapabilityUnsupportedError extends OncelockError {
  constructor(message: string, options?: OncelockErrorOptions) {
    super('ONCELOCK_UNSUPPORTED', message, options);
  }
}

/** A write carried a fence older than one the store has already seen. */
export class StaleFenceError extends OncelockError {
  readonly fence: number;
  readonly latest: number | undefined;
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
