import { checkRateLimits } from './capabilities.js';
import type { LockBackend } from './contract.js';
import { describe } from './options/describe.js';
import { invalid } from './options/option.js';
import { readOptions } from './options/read.js';
import { decide, rateOptions } from './rate-limit.js';
import { backendOption, keyOfCall, keyOrFunction } from './validate.js';

/**
 * Options of {@link rateLimited}.
 *
 * @typeParam A - The wrapped function's parameters, which a `key` function receives.
 */
export interface RateLimitedOptions<A extends unknown[]> {
  /**
   * The store that keeps the rate. It must serve rate limits (memory, Redis, PostgreSQL); Redlock
   * and Keyv refuse with `CapabilityUnsupportedError` when the function is wrapped.
   */
  backend: LockBackend;
  /** A fixed key, or a function of the call's arguments (`(tenant) => \`mail:${tenant}\``). */
  key: string | ((...args: A) => string);
  /** Calls allowed to start per window of `per` milliseconds, per key, across every process. */
  limit: number;
  /** The window, in milliseconds. */
  per: number;
  /** Calls allowed at once beyond the even pace after an idle spell. Default 0. */
  burst?: number;
  /**
   * How long a call may wait for its slot (reserved when it asks) before it is cancelled instead.
   * Default `false`: it runs now or not at all.
   */
  wait?: false | number;
}

/** A call refused by its key's rate: it did not run, and a start is granted in `retryAfter` ms. */
export type RateLimitedCancel = {
  readonly status: 'cancelled';
  readonly reason: 'rate-limited';
  /** Milliseconds until a start would be granted, as things stood when the call asked. */
  readonly retryAfter: number;
};
/**
 * What a call wrapped by {@link rateLimited} resolves to.
 *
 * @typeParam T - What the wrapped function returns.
 */
export type RateLimitedResult<T> = { readonly status: 'ran'; readonly value: T } | RateLimitedCancel;

const spec = { backend: backendOption, key: keyOrFunction, ...rateOptions };
const at = { pkg: '@oncelock/core', call: 'rateLimited()' };

/**
 * Wraps `fn` so that its calls start at most `limit` times per `per` milliseconds per key,
 * across every process (see `rateLimit` for how the store decides). A call within the rate
 * runs, after waiting for its reserved slot if `wait` allows one, and resolves
 * `{ status: 'ran', value }`; one over it resolves
 * `{ status: 'cancelled', reason: 'rate-limited', retryAfter }` without running. An error
 * thrown by `fn` propagates.
 *
 * @typeParam A - `fn`'s parameters; the wrapped function takes the same.
 * @typeParam T - What `fn` returns, as `value` of a call that ran.
 * @param fn - The function to pace, called with the wrapper's `this` and arguments.
 * @param options - The backend, the key, the rate (`limit` per `per` ms, `burst`) and `wait`.
 * @example
 * const send = rateLimited(async (tenant: string, mail: Mail) => smtp.send(mail), {
 *   backend, key: (tenant) => `mail:${tenant}`, limit: 70, per: 1000, wait: 5000,
 * });
 */
export function rateLimited<A extends unknown[], T>(
  fn: (...args: A) => Promise<T> | T,
  options: RateLimitedOptions<A>,
): (...args: A) => Promise<RateLimitedResult<T>> {
  if (typeof fn !== 'function') throw invalid(at, `needs a function, got ${describe(fn)}`);
  const o = readOptions(options, spec, at, true);
  // A backend that keeps no rates is refused now, not at the first call.
  checkRateLimits(o.backend);
  const keyOf = o.key as string | ((...args: A) => string);
  return async function (this: unknown, ...args: A): Promise<RateLimitedResult<T>> {
    const r = await decide(o.backend, keyOfCall(keyOf, this, args), o);
    if (!r.allowed) return { status: 'cancelled', reason: 'rate-limited', retryAfter: r.retryAfter };
    return { status: 'ran', value: await fn.apply(this, args) };
  };
}
