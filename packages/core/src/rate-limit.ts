import { call } from './call.js';
import { checkRateLimits } from './capabilities.js';
import { now, sleep } from './clock.js';
import { type LockBackend, MAX_TTL, type RateDecision } from './contract.js';
import { WaitAbortedError } from './errors.js';
import { emit, hasListeners } from './events.js';
import { count, duration, signal, wait } from './options/kinds.js';
import { readOptions } from './options/read.js';
import { checkBackend, checkKey } from './validate.js';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Starts allowed per window of `per` milliseconds, across every process that shares the backend. */
  limit: number;
  /** The window, in milliseconds: `{ limit: 70, per: 1000 }` is 70 starts a second. */
  per: number;
  /**
   * Starts allowed at once, beyond the even pace, after an idle spell. Default 0: starts are
   * spaced `per / limit` apart, and never more than `limit` fall in any window of `per`.
   */
  burst?: number;
  /**
   * How long a caller may wait for its start. Default `false`: now or not at all. With a
   * number, the caller reserves the next free slot if it is at most that many milliseconds
   * away (callers get slots in the order their requests reach the store) and sleeps until it.
   */
  wait?: false | number;
  /**
   * Cancels the wait for a reserved slot with `WaitAbortedError`. The slot stays taken (the
   * store cannot give it back), which only ever lowers the rate.
   */
  signal?: AbortSignal;
}

/** What {@link rateLimit} decides: a start now (after its wait, if any), or not before `retryAfter`. */
export type RateLimitResult =
  | {
      readonly allowed: true;
      /** Starts that would still be granted at once, without waiting. */
      readonly remaining: number;
    }
  | {
      readonly allowed: false;
      /** Milliseconds until a start would be granted, as things stand. */
      readonly retryAfter: number;
    };

/** Most starts per window, or of burst, core accepts: a finer rate is no limit worth a round trip. */
const MOST = 1_000_000;

/** The rate options `rateLimit` and `rateLimited` share. */
export const rateOptions = {
  limit: count({ min: 1, max: MOST }).required(),
  per: duration({ min: 1, max: MAX_TTL }).required(),
  burst: count({ min: 0, max: MOST }).default(0),
  wait: wait().default(0),
};
const spec = { ...rateOptions, signal: signal() };
const at = { pkg: '@oncelock/core', call: 'rateLimit()' };

/** A rate, read: `wait` is 0 for `false`. */
export interface Rate {
  readonly limit: number;
  readonly per: number;
  readonly burst: number;
  readonly wait: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Asks whether `key` may start now under a rate of `limit` starts per `per` milliseconds,
 * shared by every process that uses the backend. The store decides by GCRA on its own clock,
 * in one round trip: starts are paced `per / limit` apart (plus `burst` at once after an idle
 * spell), so no window of `per` ever holds more than `limit + burst`, at window edges too.
 * A refused call stores nothing. Bad input throws `InvalidArgumentError` and a backend without
 * rate limits `CapabilityUnsupportedError`, before any round trip.
 *
 * @param backend - The store that keeps the rate: memory, Redis or PostgreSQL.
 * @param key - The rate's name: every caller that shares the limit uses the same key. Rate keys
 *   are kept apart from lock keys; at most 1,024 bytes of UTF-8, without NUL.
 * @param options - `limit` and `per` (required), and `burst`, `wait`, `signal` (see
 *   {@link RateLimitOptions} for each default).
 * @example
 * const r = await rateLimit(backend, `mail:${tenant}`, { limit: 70, per: 1000, wait: 5000 });
 * if (r.allowed) await send(mail);
 * else await requeue(mail, r.retryAfter);
 */
export async function rateLimit(
  backend: LockBackend,
  key: string,
  options: RateLimitOptions,
): Promise<RateLimitResult> {
  checkBackend(backend);
  checkKey(key);
  const rate = readOptions(options, spec, at, true);
  checkRateLimits(backend);
  return decide(backend, key, rate);
}

/**
 * One rate decision on a checked backend, key and rate; a reserved slot is slept for with one
 * timer. Rejects with `WaitAbortedError` once `signal` aborts, unless it has already resolved.
 *
 * @param backend - A backend that has `rateLimit`.
 * @param key - A checked key.
 * @param rate - The read options.
 */
export function decide(backend: LockBackend, key: string, rate: Rate): Promise<RateLimitResult> {
  const { signal } = rate;
  if (signal?.aborted) return Promise.reject(aborted(backend, key, signal));
  // Promise chains rather than async functions: a decision on a fast store takes a few
  // microseconds, and each async frame is a measurable share of it.
  return askRate(backend, key, rate).then((d): RateLimitResult | Promise<RateLimitResult> => {
    if (!d.allowed) return { allowed: false, retryAfter: Math.ceil(d.retryAfter) };
    const granted = { allowed: true, remaining: d.remaining } as const;
    if (d.delay === 0) return granted;
    // The store decided before its reply left, so its slot is at most `delay` after the reply:
    // waking `delay` after it never starts early, and is late by at most the round trip.
    return sleepUntil(now() + d.delay, signal).then(() => {
      if (signal?.aborted) throw aborted(backend, key, signal);
      return granted;
    });
  });
}

/**
 * One rate decision in one round trip, reserving up to `rate.wait` ahead, without sleeping: for
 * adapters that wait their own way (BullMQ puts a job back until its slot). Emits the `rate`
 * event. A reserved slot is at most `delay` after the answer arrives.
 *
 * @param backend - A backend that has `rateLimit` (see `checkRateLimits`).
 * @param key - A checked key.
 * @param rate - The rate: `limit`, `per`, `burst`, and `wait` (how far ahead to reserve; 0: now or not).
 */
export function askRate(
  backend: LockBackend,
  key: string,
  rate: Omit<Rate, 'signal'>,
): Promise<RateDecision> {
  const request = { key, limit: rate.limit, per: rate.per, burst: rate.burst, reserve: rate.wait };
  // The clock is read for the event only.
  const sent = hasListeners() ? now() : -1;
  // checkRateLimits has refused a backend without rateLimit.
  const asked = call(backend, 'rateLimit', () => backend.rateLimit!(request));
  if (sent < 0) return asked;
  return asked.then((d) => {
    if (!hasListeners()) return d;
    // One literal per branch, no spread: listeners read these objects, and V8 reads a spread's
    // result slowly (it slows every event that passes through the same listener).
    const tookMs = now() - sent;
    const name = backend.name;
    emit(
      d.allowed
        ? { type: 'rate', backend: name, key, tookMs, allowed: true, delay: d.delay }
        : { type: 'rate', backend: name, key, tookMs, allowed: false, retryAfter: d.retryAfter },
    );
    return d;
  });
}

/**
 * Sleeps until the monotonic time `deadline`, or until `signal` aborts. One timer, almost always:
 * Node counts a timer from the event loop's cached time, so it may fire a little early, and a
 * short second timer then covers the rest.
 */
async function sleepUntil(deadline: number, signal: AbortSignal | undefined): Promise<void> {
  for (let left = deadline - now(); left > 0 && !signal?.aborted; left = deadline - now()) {
    await sleep(Math.ceil(left), signal).done;
  }
}

function aborted(backend: LockBackend, key: string, signal: AbortSignal): WaitAbortedError {
  return new WaitAbortedError(key, { backend: backend.name, pkg: backend.pkg, cause: signal.reason });
}
