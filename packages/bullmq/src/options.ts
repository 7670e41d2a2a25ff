import {
  checkKey,
  checkTtl,
  InvalidArgumentError,
  type LockBackend,
  type OnceGuard,
  type OnceMode,
  once,
  type Requirements,
} from '@oncelock/core';

/** Names this package in error messages. */
export const PKG = '@oncelock/bullmq';

/**
 * What to do when a job's key is already claimed by another job.
 * - `cancel` (default): nothing is added or run; the result names the job that is already there.
 * - `throw`: `add()` throws `LockNotAcquiredError`; its `holder.owner` is that job's id.
 * - `replace`: the queued job takes this call's data (only while it has not started).
 * - `delay`: the queued job is postponed to `opts.delay` from now (only while it is delayed);
 *   in a processor, a job that finds its key running is put back as delayed and tried again.
 */
export type QueueConflict = 'cancel' | 'throw' | 'replace' | 'delay';
const conflicts: readonly QueueConflict[] = ['cancel', 'throw', 'replace', 'delay'];
const modes: readonly OnceMode[] = ['whileRunning', 'untilRunning', 'untilDone', 'queuedAndRunning'];

/** The key of a job: a fixed string, or a function of its name and data. `null` leaves the job unguarded. */
export type JobKey<DataType, NameType extends string> =
  | string
  | ((name: NameType, data: DataType) => string | null | undefined);

/**
 * One policy, shared by the producer (`onceQueue`) and the worker (`onceProcessor`): pass the
 * same object to both, so both sides compute the same keys and hold claims the same way.
 */
export interface OnceJobOptions<DataType = unknown, NameType extends string = string> {
  /** Where claims live. Any oncelock backend; it need not be the queue's Redis. */
  backend: LockBackend;
  /** The work's key, scoped to the queue (its prefix and name are put in front). */
  key: JobKey<DataType, NameType>;
  /** When a claim is held; see the README. Default `untilDone`. */
  mode?: OnceMode;
  /**
   * TTL of the running claim, extended while the processor runs. Default 15 s: keep it at most half
   * of the worker's `lockDuration` (30 s by default), so that a frozen worker's claim is lost before
   * BullMQ gives its stalled job to another worker.
   */
  ttl?: number;
  /**
   * TTL of a claim held by a job that waits in the queue (after `add()`, and between retries): the
   * longest a job may wait before its claim lapses. Default 1 hour.
   */
  queuedTtl?: number;
  /** Default `cancel`. `whileRunning` accepts only `cancel` and `delay`. */
  onConflict?: QueueConflict;
  /** How long a job that was put back (its key is running) waits before it tries again. Default 1 s. */
  retryDelay?: number;
  /**
   * The longest `queue.add()` may take. A claim whose job cannot be found is taken over once it is
   * older than this (the job was removed, or its producer died before adding it). Default 10 s.
   */
  addTimeout?: number;
  /** Refuse, before any round trip, a backend that gives less than this. */
  require?: Requirements;
}

/** The validated policy, with a guard factory for one key. */
export interface Policy<DataType, NameType extends string> {
  readonly backend: LockBackend;
  readonly mode: OnceMode;
  readonly ttl: number;
  readonly queuedTtl: number;
  readonly onConflict: QueueConflict;
  readonly retryDelay: number;
  readonly addTimeout: number;
  /** The lock key of a job in the queue named `qualifiedName`, or `null` if the job is unguarded. */
  keyOf(qualifiedName: string, name: NameType, data: DataType): string | null;
  guard(key: string): OnceGuard;
  /** Where errors come from, for core's error classes. */
  readonly where: { backend: string; pkg: string };
}

/** Validates `options` (throws `InvalidArgumentError` before any round trip). */
export function policyOf<DataType, NameType extends string>(
  options: OnceJobOptions<DataType, NameType>,
): Policy<DataType, NameType> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError('options must be an object', { pkg: PKG });
  }
  return parse(options);
}

function parse<DataType, NameType extends string>(
  o: OnceJobOptions<DataType, NameType>,
): Policy<DataType, NameType> {
  const mode = oneOf(o.mode, 'mode', modes, 'untilDone');
  const onConflict = oneOf(o.onConflict, 'onConflict', conflicts, 'cancel');
  if (mode === 'whileRunning' && (onConflict === 'throw' || onConflict === 'replace')) {
    throw new InvalidArgumentError(
      `onConflict '${onConflict}' needs a claim made at add time, which 'whileRunning' does not make; use 'cancel' or 'delay'`,
      { pkg: PKG },
    );
  }
  const ttl = o.ttl === undefined ? 15_000 : checkTtl(o.ttl);
  const queuedTtl = o.queuedTtl === undefined ? 3_600_000 : checkTtl(o.queuedTtl, 'queuedTtl');
  const retryDelay = o.retryDelay === undefined ? 1_000 : checkTtl(o.retryDelay, 'retryDelay');
  const addTimeout = o.addTimeout === undefined ? 10_000 : checkTtl(o.addTimeout, 'addTimeout');
  const key = o.key;
  if (typeof key === 'string') checkKey(key);
  else if (typeof key !== 'function') {
    throw new InvalidArgumentError('key must be a string or a function of (name, data)', { pkg: PKG });
  }
  // Core validates the backend, the TTLs and the requirements; a guard costs nothing to make.
  const guard = (k: string) =>
    once(o.backend, { key: k, mode, ttl, queuedTtl, onConflict: 'cancel', require: o.require });
  guard('probe');
  return {
    backend: o.backend,
    mode,
    ttl,
    queuedTtl,
    onConflict,
    retryDelay,
    addTimeout,
    guard,
    where: { backend: o.backend.name, pkg: PKG },
    keyOf(qualifiedName, name, data) {
      const own = typeof key === 'string' ? key : key(name, data);
      if (own === null || own === undefined) return null;
      checkKey(own);
      return checkKey(`${qualifiedName}:${own}`);
    },
  };
}

function oneOf<T extends string>(value: unknown, what: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidArgumentError(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, {
      pkg: PKG,
    });
  }
  return value as T;
}
