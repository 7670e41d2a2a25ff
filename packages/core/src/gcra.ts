import type { RateDecision, RateRequest } from './contract.js';

/** One GCRA decision: what to answer, and the key's new theoretical arrival time (unchanged on a refusal). */
export interface Gcra {
  readonly decision: RateDecision;
  readonly tat: number;
}

/**
 * The rate decision every backend makes, written once in TypeScript (see `RateRequest` for the
 * rule). The Lua and SQL backends compute the same numbers in their own language; this one
 * serves the memory store and is the reference their tests compare with.
 *
 * @param tat - The key's stored theoretical arrival time, or `undefined` for a key with none.
 * @param now - The store's time, in milliseconds.
 * @param request - The rate, the burst and how far ahead a slot may be reserved.
 */
export function gcra(tat: number | undefined, now: number, request: RateRequest): Gcra {
  const interval = request.per / request.limit;
  const tolerance = request.burst * interval;
  const base = Math.max(tat ?? now, now);
  const delay = Math.max(0, base - tolerance - now);
  if (delay > request.reserve)
    return { decision: { allowed: false, retryAfter: Math.ceil(delay) }, tat: base };
  const next = base + interval;
  // burst - ceil(ahead / interval) equals floor((now + tolerance - next) / interval) + 1, but
  // reads `base - now`, which is exactly 0 on a fresh key: the other form subtracts two large
  // clock readings and can round a whole start away.
  const remaining = delay > 0 ? 0 : Math.max(0, request.burst - Math.ceil((base - now) / interval));
  return { decision: { allowed: true, remaining, delay, at: now + delay }, tat: next };
}
