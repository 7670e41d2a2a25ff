import { call } from './call.js';
import { driftFor, jitter, now, sleep } from './clock.js';
import type {
  AcquireRequest,
  AcquireResult,
  ExtendRequest,
  Holder,
  LockBackend,
  ReleaseRequest,
} from './contract.js';
import { BackendUnavailableError, LimitMismatchError, OncelockError, WaitAbortedError } from './errors.js';
import { emit, hasListeners } from './events.js';

export interface Grant {
  readonly granted: true;
  readonly fence: number | undefined;
  /** Monotonic time the request was sent: validity is counted from here, not from the reply. */
  readonly startedAt: number;
  /** Monotonic time the grant arrived; events reuse it rather than read the clock again. */
  readonly grantedAt: number;
  /** Monotonic time until which the grant is trusted locally. */
  readonly validUntil: number;
}

export interface Refusal {
  readonly granted: false;
  readonly holder: Holder | undefined;
  /** The store granted it, but the reply came too late to trust; it was given back. */
  readonly stale?: true;
}

export interface AcquireParams {
  readonly key: string;
  readonly owner: string;
  readonly ttl: number;
  /** Milliseconds to keep trying; 0 tries once. */
  readonly wait: number;
  readonly signal: AbortSignal | undefined;
  /** A claim made at enqueue time, which nobody in this process holds afterwards (no lease handle). */
  readonly claim?: boolean;
  /** 2 or more for a permit (one of at most `limit` holders); absent for a plain lease. */
  readonly limit?: number | undefined;
}

/** How long before local validity ends a lease stops trusting itself and fires its signal. */
export function safetyMargin(ttl: number): number {
  return Math.min(Math.ceil(ttl * 0.05), 250);
}

/** What {@link answer} returns for a grant that came too late to trust: it must be given back. */
const STALE = Symbol('stale');
const staleRefusal: Refusal = { granted: false, holder: undefined, stale: true };

/** Sends one acquire request; `waiting` joins the key's waiters on a store that queues them. */
function send(
  backend: LockBackend,
  p: Pick<AcquireParams, 'key' | 'owner' | 'ttl' | 'limit'>,
  waiting: boolean,
): Promise<AcquireResult> {
  const { key, owner, ttl, limit } = p;
  let request: AcquireRequest;
  if (!waiting) request = requestOf(key, owner, ttl, limit);
  else request = limit === undefined ? { key, owner, ttl, waiting } : { key, owner, ttl, waiting, limit };
  return call(backend, 'acquire', () => backend.acquire(request));
}

/**
 * Reads the store's answer to one acquire sent at `startedAt`: a grant, a refusal, or
 * {@link STALE} for a grant that arrived too late to trust. Synchronous, so that a caller that
 * awaits the round trip itself settles a lease without one more async frame.
 */
function answer(
  backend: LockBackend,
  p: Pick<AcquireParams, 'key' | 'ttl' | 'limit'>,
  result: AcquireResult,
  waits: boolean,
  startedAt: number,
): Grant | Refusal | typeof STALE {
  const { key, ttl, limit } = p;
  if (!result.granted) {
    if (result.limit !== undefined && result.limit !== (limit ?? 1)) {
      throw new LimitMismatchError(key, result.limit, limit ?? 1, {
        backend: backend.name,
        pkg: backend.pkg,
      });
    }
    if (hasListeners())
      emit({
        type: 'refused',
        backend: backend.name,
        key,
        holder: result.holder,
        tookMs: now() - startedAt,
        waits,
      });
    return { granted: false, holder: result.holder };
  }
  // A grant handed over at a release counts from the waiter's earlier request (see AcquireResult).
  const from = result.validFrom !== undefined && result.validFrom < startedAt ? result.validFrom : startedAt;
  const validUntil = from + ttl - driftFor(ttl);
  const grantedAt = now();
  if (grantedAt >= validUntil - safetyMargin(ttl)) return STALE;
  return { granted: true, fence: result.fence, startedAt: from, grantedAt, validUntil };
}

/**
 * One acquire round trip. A grant that arrives too late to be trusted is kept by an extend if the
 * store still holds it, and counts as refused otherwise. `startedAt` is the request's start: a
 * caller that has just read the clock passes its reading.
 */
export async function acquireOnce(
  backend: LockBackend,
  p: Pick<AcquireParams, 'key' | 'owner' | 'ttl' | 'limit'>,
  waiting = false,
  waits = false,
  startedAt = now(),
): Promise<Grant | Refusal> {
  const raw = await send(backend, p, waiting);
  const result = answer(backend, p, raw, waits, startedAt);
  if (result !== STALE) return result;
  return (await keepStale(backend, p, raw, waits)) ?? staleRefusal;
}

/**
 * A grant that came too late to trust may still stand in the store: a key handed over long after
 * the instant its waiter named, or a reply slowed on its way. An extend restarts its TTL after a
 * new send time, from which its validity then counts: one round trip, and the caller keeps the
 * key (and, if it waited, its turn). If the store no longer holds it, or the extend fails or is
 * late too, the grant is given back before the caller hears of a refusal, so that the caller
 * never sees one while the store still holds its grant; undefined then.
 */
async function keepStale(
  backend: LockBackend,
  p: Pick<AcquireParams, 'key' | 'owner' | 'ttl' | 'limit'>,
  stale: AcquireResult,
  waits: boolean,
): Promise<Grant | undefined> {
  const startedAt = now();
  const request = requestOf(p.key, p.owner, p.ttl, p.limit);
  let kept = false;
  try {
    kept = await call(backend, 'extend', () => backend.extend(request));
  } catch {
    // Treated as not kept: given back below, and the caller tries again or waits on.
  }
  if (kept) {
    // An extend keeps the grant's fence.
    const fence = stale.granted ? stale.fence : undefined;
    const grant = answer(backend, p, { granted: true, fence }, waits, startedAt);
    if (grant !== STALE && grant.granted) return grant;
  }
  await giveBack(backend, p);
  return undefined;
}

/**
 * Backends whose release notifications went live once: subscribing again costs them no round
 * trip, so a later waiter subscribes before its first try, which then joins the key's waiters
 * (a `waiting` acquire) instead of being refused once before it can.
 */
const notifying = new WeakSet<LockBackend>();

/**
 * Tries until granted, `wait` runs out, or `signal` aborts (rejects with `WaitAbortedError`).
 * Waiters sleep on the backend's release notification when it has one, with a jittered
 * fallback poll in case a notification is lost; otherwise they poll with jittered backoff.
 * A known holder TTL caps each sleep, so an expiring lock is retaken promptly.
 */
export function acquireWithWait(backend: LockBackend, p: AcquireParams): Promise<Grant | Refusal>;
/**
 * As above, with `settle` applied to the answer in the frame that got it (a lease handle made
 * there, say): one async frame less than awaiting the answer and then settling it. What
 * `settle` throws is the caller's own error (a refusal it reports), not a failed acquire.
 */
export function acquireWithWait<T>(
  backend: LockBackend,
  p: AcquireParams,
  settle: (result: Grant | Refusal) => T,
): Promise<T>;
export function acquireWithWait<T>(
  backend: LockBackend,
  p: AcquireParams,
  settle: (result: Grant | Refusal) => T = asIs as (result: Grant | Refusal) => T,
): Promise<T> {
  return p.wait > 0 ? waitFor(backend, p).then(settle) : tryOnce(backend, p, settle);
}

const asIs = <R>(result: R): R => result;

/**
 * The one try of a caller that does not wait (one more after a stale grant): the common case,
 * without a waiter's subscription, timers and gauges.
 */
async function tryOnce<T>(
  backend: LockBackend,
  p: AcquireParams,
  settle: (result: Grant | Refusal) => T,
): Promise<T> {
  // One clock read is both the request's start and the events' (each read is a few per cent of an
  // in-process lease); counting validity from this instant, a little early, only shortens it.
  const begin = now();
  let result: Grant | Refusal | typeof STALE;
  try {
    if (p.signal?.aborted) throw aborted(backend, p);
    // The round trip is awaited here, not in acquireOnce: one async frame less for every lease.
    const raw = await send(backend, p, false);
    result = answer(backend, p, raw, false, begin);
    if (result === STALE) {
      // Usually a slow first round trip (connecting): the grant is kept by an extend if the store
      // still holds it, and if not, one more try costs little and often succeeds.
      result = (await keepStale(backend, p, raw, false)) ?? (await acquireOnce(backend, p));
    }
    if (result.granted) {
      if (p.signal?.aborted) {
        await giveBack(backend, p);
        throw aborted(backend, p);
      }
      reportGrant(backend, p, result, begin);
    }
  } catch (error) {
    if (!(error instanceof WaitAbortedError)) reportFailure(backend, p, error, begin);
    throw error;
  }
  return settle(result);
}

function reportGrant(backend: LockBackend, p: AcquireParams, result: Grant, begin: number): void {
  if (!hasListeners()) return;
  emit({
    type: 'acquired',
    backend: backend.name,
    key: p.key,
    fence: result.fence,
    // The grant's arrival, not two more clock reads: each costs as much as a few per cent of an in-process lease.
    waitedMs: result.grantedAt - begin,
    tookMs: result.grantedAt - result.startedAt,
    held: p.claim !== true,
  });
}

function reportFailure(backend: LockBackend, p: AcquireParams, error: unknown, begin: number): void {
  if (!hasListeners()) return;
  const code = error instanceof OncelockError ? error.code : 'ONCELOCK_UNKNOWN';
  emit({ type: 'failed', backend: backend.name, key: p.key, code, tookMs: now() - begin });
}

/** Tries until granted, `wait` runs out, or `signal` aborts: the waiter's loop. */
async function waitFor(backend: LockBackend, p: AcquireParams): Promise<Grant | Refusal> {
  const begin = now();
  const deadline = begin + p.wait;
  let woken = false;
  let sleeper: ReturnType<typeof sleep> | undefined;
  let unsubscribe: (() => void) | undefined;
  let subscribed = false;
  let retriedStale = false;
  // `waiting` once when the caller starts to wait, then exactly one `waited`: a waiters gauge stays exact.
  let waiting = false;
  const startWaiting = () => {
    if (waiting || p.wait <= 0) return;
    waiting = true;
    if (hasListeners()) emit({ type: 'waiting', backend: backend.name, key: p.key });
  };
  const subscribe = async (subscribe: NonNullable<LockBackend['subscribe']>) => {
    subscribed = true;
    try {
      unsubscribe = await subscribe.call(
        backend,
        p.key,
        () => {
          woken = true;
          sleeper?.wake();
        },
        p.owner,
      );
      notifying.add(backend);
    } catch {
      // Notifications are an optimisation; polling still finds the lock free.
    }
  };
  const outcome = (o: 'acquired' | 'timeout' | 'aborted' | 'error') => {
    if (waiting && hasListeners())
      emit({ type: 'waited', backend: backend.name, key: p.key, outcome: o, waitedMs: now() - begin });
  };
  try {
    if (p.wait > 0 && backend.subscribe && notifying.has(backend)) await subscribe(backend.subscribe);
    for (let attempt = 0; ; attempt++) {
      if (p.signal?.aborted) throw aborted(backend, p);
      woken = false;
      let result: Grant | Refusal;
      try {
        result = await acquireOnce(backend, p, unsubscribe !== undefined, p.wait > 0);
      } catch (error) {
        // A waiter outlasts a blip of the store: retry until the deadline, then report the error itself.
        const retryIn = Math.min(jitter(Math.min(50 * 2 ** attempt, 1000)), deadline - now());
        if (!(error instanceof BackendUnavailableError) || retryIn <= 0) throw error;
        startWaiting();
        await sleep(retryIn, p.signal).done;
        continue;
      }
      if (result.granted && p.signal?.aborted) {
        await giveBack(backend, p);
        throw aborted(backend, p);
      }
      if (result.granted) {
        outcome('acquired');
        reportGrant(backend, p, result, begin);
        return result;
      }
      if (result.stale && !retriedStale) {
        // Usually a slow first round trip (connecting): one more try costs little and often succeeds.
        retriedStale = true;
        continue;
      }
      startWaiting();
      if (now() >= deadline) {
        outcome('timeout');
        return result;
      }
      if (!subscribed && backend.subscribe) {
        await subscribe(backend.subscribe);
        continue; // The lock may have come free before the subscription was live.
      }
      if (woken) continue;
      const poll = unsubscribe ? jitter(1000, 0.3) : jitter(Math.min(20 * 2 ** attempt, 500));
      const untilExpiry =
        result.holder?.ttlRemaining !== undefined ? result.holder.ttlRemaining + 2 : Number.POSITIVE_INFINITY;
      sleeper = sleep(Math.min(poll, untilExpiry, deadline - now()), p.signal);
      await sleeper.done;
      sleeper = undefined;
    }
  } catch (error) {
    if (error instanceof WaitAbortedError) outcome('aborted');
    else {
      outcome('error');
      reportFailure(backend, p, error, begin);
    }
    throw error;
  } finally {
    try {
      unsubscribe?.();
    } catch {
      // A failed unsubscribe only leaves a listener that finds nothing to wake.
    }
  }
}

/** Releases a grant nobody will use. A failure only leaves it to run out at its TTL: never thrown. */
async function giveBack(
  backend: LockBackend,
  p: Pick<AcquireParams, 'key' | 'owner' | 'limit'>,
): Promise<void> {
  try {
    await backend.release(releaseOf(p));
  } catch {
    // The lock ends at its TTL anyway; the caller is already being told it has no lease.
  }
}

/**
 * The acquire (of a caller that does not wait) or extend request of a lease (no `limit`: it stays
 * as it always was) or a permit (with its `limit`): backends route permits by its presence.
 * Written as object literals: a spread (`{ ...r, limit }`) cost a permit's acquire and release
 * tens of microseconds, more than the rest of core together.
 */
export function requestOf(key: string, owner: string, ttl: number, limit: number | undefined): ExtendRequest {
  return limit === undefined ? { key, owner, ttl } : { key, owner, ttl, limit };
}

/** The release request of a lease or a permit (see {@link requestOf}). */
export function releaseOf({
  key,
  owner,
  limit,
}: Pick<AcquireParams, 'key' | 'owner' | 'limit'>): ReleaseRequest {
  return limit === undefined ? { key, owner } : { key, owner, limit };
}

function aborted(backend: LockBackend, p: AcquireParams): WaitAbortedError {
  return new WaitAbortedError(p.key, { backend: backend.name, pkg: backend.pkg, cause: p.signal?.reason });
}
