import {
  type LockBackend,
  type OnceGuard,
  type OnceMode,
  once,
  onceModes,
  type Requirements,
} from '@oncelock/core';
import type { At, Read } from '@oncelock/core/backend';
import {
  client,
  count,
  duration,
  invalid,
  MAX_LIMIT,
  object,
  oneOf,
  permitLimit,
  readOptions,
  ttl,
} from '@oncelock/core/backend';
import { type JobKey, jobKey, lockKeyOf } from './job-key.js';

/** Names this package in error messages. */
export const PKG = '@oncelock/bullmq';

/** Where the options of `call` (`'onceQueue()'`) are read, for its error messages. */
export const at = (call: string): At => ({ pkg: PKG, call });

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
  /**
   * `whileRunning` only: at most this many jobs of a key run at once, across every worker and
   * process; each running job holds a permit (see `lease` with `limit`). Default 1.
   */
  limit?: number;
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
export interface Policy<DataType, NameType extends string>
  extends Readonly<Omit<Read<typeof policyOptions>, 'key' | 'require'>> {
  /** The lock key of a job in the queue named `qualifiedName`, or `null` if the job is unguarded. */
  keyOf(qualifiedName: string, name: NameType, data: DataType): string | null;
  guard(key: string): OnceGuard;
  /** Where errors come from, for core's error classes. */
  readonly where: { backend: string; pkg: string };
}

/** The options of {@link OnceJobOptions}, read by `onceQueue()` and `onceProcessor()` alike. */
export const policyOptions = {
  backend: client<LockBackend>('an oncelock backend (memoryBackend(), redisBackend(), ...)', [
    'acquire',
    'extend',
    'release',
    'inspect',
  ]).required(),
  key: jobKey(true),
  mode: oneOf(onceModes).default('untilDone'),
  ttl: ttl().default(15_000),
  queuedTtl: ttl().default(3_600_000),
  onConflict: oneOf(conflicts).default('cancel'),
  limit: count({ min: 1, max: MAX_LIMIT }).default(1),
  // Durations, not TTLs: nothing is stored with them.
  retryDelay: duration().default(1_000),
  addTimeout: duration({ min: 1 }).default(10_000),
  require: object<Requirements>('an object of requirements ({ exclusion, fencing })'),
};

/** Validates `options` for `where` (throws `InvalidArgumentError` before any round trip). */
export function policyOf<DataType, NameType extends string>(
  options: OnceJobOptions<DataType, NameType>,
  where: At,
): Policy<DataType, NameType> {
  const o = readOptions(options, policyOptions, where, true);
  const { backend, mode, ttl, queuedTtl, onConflict } = o;
  if (mode === 'whileRunning' && (onConflict === 'throw' || onConflict === 'replace')) {
    throw invalid(
      where,
      `onConflict '${onConflict}' needs a claim made at add time, which 'whileRunning' does not make; use 'cancel' or 'delay'`,
    );
  }
  checkLimit(o.limit, mode, backend, where);
  const key = o.key as JobKey<DataType, NameType>;
  // Core validates the backend and the requirements; a guard costs nothing to make.
  const guard = (k: string) =>
    once(backend, { key: k, mode, ttl, queuedTtl, onConflict: 'cancel', require: o.require });
  guard('probe');
  return {
    ...o,
    guard,
    where: { backend: backend.name, pkg: PKG },
    keyOf: (qualifiedName, name, data) => lockKeyOf(key, qualifiedName, name, data),
  };
}

/**
 * A limit counts running jobs, so it has a meaning only where claims are made at run time. The
 * other modes claim at add time, for one owner per key (the job that waits), which N cannot share.
 */
function checkLimit(limit: number, mode: OnceMode, backend: LockBackend, where: At): void {
  if (limit === 1) return;
  if (mode !== 'whileRunning') {
    throw invalid(
      where,
      `limit counts running jobs, so it needs mode 'whileRunning'; '${mode}' claims a key at add time for the one job that waits`,
    );
  }
  permitLimit(backend, limit);
}
