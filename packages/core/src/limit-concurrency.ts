import type { Requirements } from './capabilities.js';
import { permitLimit } from './capabilities.js';
import type { LockBackend } from './contract.js';
import { MAX_LIMIT } from './contract.js';
import { withCurrentLease } from './current.js';
import { tryLease } from './lease.js';
import { count, object, ttl, wait } from './options/kinds.js';
import { readOptions } from './options/read.js';
import { backendOption, keyOfCall, keyOrFunction } from './validate.js';

/**
 * Options of {@link limitConcurrency}.
 *
 * @typeParam A - The wrapped function's parameters, which a `key` function receives.
 */
export interface LimitConcurrencyOptions<A extends unknown[]> {
  /**
   * The store that holds the permits. It must serve limits (memory, Redis); Redlock and Keyv
   * refuse with `CapabilityUnsupportedError` when the function is wrapped.
   */
  backend: LockBackend;
  /** A fixed key, or a function of the call's arguments (`(merchant) => \`stripe:${merchant}\``). */
  key: string | ((...args: A) => string);
  /** At most this many calls per key run at once, across every process that shares the backend. */
  limit: number;
  /** TTL of each call's permit; it is extended in the background while the call runs. Default 30 s. */
  ttl?: number;
  /** How long a call waits for a permit before it is cancelled. Default `false`: it does not wait. */
  wait?: false | number;
  /**
   * What the backend must guarantee (exclusion, fencing); a backend that falls short is refused
   * with `CapabilityUnsupportedError` when the function is wrapped. Default: nothing required.
   */
  require?: Requirements;
}

/** A call that found every permit of its key taken (and waited for one as long as it was allowed). */
export type Limited = { readonly status: 'cancelled'; readonly reason: 'limited' };
/**
 * What a call wrapped by {@link limitConcurrency} resolves to.
 *
 * @typeParam T - What the wrapped function returns.
 */
export type LimitedResult<T> = { readonly status: 'ran'; readonly value: T } | Limited;

const spec = {
  backend: backendOption,
  key: keyOrFunction,
  limit: count({ min: 1, max: MAX_LIMIT }).required(),
  ttl: ttl().default(30_000),
  wait: wait().default(0),
  require: object<Requirements>(),
};
const at = { pkg: '@oncelock/core', call: 'limitConcurrency()' };

/**
 * Wraps `fn` so that at most `limit` calls per key run at once across every process. A call
 * that gets a permit runs and resolves `{ status: 'ran', value }`, releasing the permit however
 * `fn` ends; one that finds every permit taken (within `wait`) resolves
 * `{ status: 'cancelled', reason: 'limited' }` without running. An error thrown by `fn`
 * propagates. Inside `fn`, `currentLease()` is the call's permit (its signal and fence).
 *
 * @typeParam A - `fn`'s parameters; the wrapped function takes the same.
 * @typeParam T - What `fn` returns, as `value` of a call that ran.
 * @param fn - The function to run under a permit, called with the wrapper's `this` and arguments.
 * @param options - The backend, the key, the limit, and the permit's TTL and wait (milliseconds).
 * @example
 * const charge = limitConcurrency(async (merchant: string, cents: number) => stripe.charge(merchant, cents), {
 *   backend, key: (merchant) => `stripe:${merchant}`, limit: 5, wait: 10_000,
 * });
 */
export function limitConcurrency<A extends unknown[], T>(
  fn: (...args: A) => Promise<T> | T,
  options: LimitConcurrencyOptions<A>,
): (...args: A) => Promise<LimitedResult<T>> {
  const o = readOptions(options, spec, at, true);
  // A backend that cannot serve the limit is refused now, not at the first call.
  permitLimit(o.backend, o.limit);
  const keyOf = o.key as string | ((...args: A) => string);
  return async function (this: unknown, ...args: A): Promise<LimitedResult<T>> {
    const key = keyOfCall(keyOf, this, args);
    const permit = await tryLease(o.backend, key, {
      ttl: o.ttl,
      wait: o.wait,
      limit: o.limit,
      require: o.require,
    });
    if (!permit) return { status: 'cancelled', reason: 'limited' };
    try {
      return { status: 'ran', value: await withCurrentLease(permit, () => fn.apply(this, args)) };
    } finally {
      await permit.release().catch(() => false);
    }
  };
}
