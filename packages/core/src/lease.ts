import {
  type AcquireParams,
  acquireWithWait,
  type Grant,
  type Refusal,
  releaseOf,
  requestOf,
  safetyMargin,
} from './acquire.js';
import { call } from './call.js';
import { checkRequirements, fencingUnsupported, permitLimit, type Requirements } from './capabilities.js';
import { driftFor, now } from './clock.js';
import type { Holder, LockBackend } from './contract.js';
import { MAX_LIMIT } from './contract.js';
import { withCurrentLease } from './current.js';
import { LockLostError, LockNotAcquiredError, WaitTimeoutError } from './errors.js';
import { emit, hasListeners, type LostCause } from './events.js';
import { type Beating, type Heartbeat, heartbeatOf } from './heartbeat.js';
import { count, flag, object, signal, ttl, wait } from './options/kinds.js';
import { optionsObject } from './options/read.js';
import { newToken } from './token.js';
import { checkBackend, checkKey, ownerOption } from './validate.js';

/** Options of {@link lease}, {@link tryLease} and {@link withLease}. */
export interface LeaseOptions {
  /** Milliseconds the store keeps the lock without an extension. Required. */
  ttl: number;
  /** `false` (default) tries once; a number of milliseconds keeps trying that long. */
  wait?: false | number;
  /** Extend the lease in the background until it is released. Default `true`. */
  autoExtend?: boolean;
  /** Cancels a wait. It does not end a lease once granted: call `release()` for that. */
  signal?: AbortSignal;
  /** Refuse, before any round trip, a backend that gives less than this. */
  require?: Requirements;
  /**
   * The owner token. Default: a fresh 128-bit random token. Pass a job id to take over a claim
   * made for that job elsewhere (see `once`); anyone who knows the token can extend and release.
   */
  owner?: string;
  /**
   * At most this many holders of `key` at once, across every process (a semaphore); each holder
   * gets a permit: a `Lease` with its own TTL and fence. Default 1: one holder, a plain lease.
   * Every holder of a key must ask with the same limit (else `LimitMismatchError`).
   */
  limit?: number;
}

/** A held lock. Dispose of it with `await using`, or call `release()`. */
export interface Lease extends AsyncDisposable {
  /** The key the lease holds, as passed to `lease()`. */
  readonly key: string;
  /** The owner token this lease holds the key with. */
  readonly token: string;
  /**
   * Strictly increasing per key: pass it with every write the lock protects, so the store can
   * reject a write from a holder whose lease has already ended. Throws
   * `CapabilityUnsupportedError` on backends that make no fences (Redlock, Keyv).
   */
  readonly fence: number;
  /** Aborts when the lease is lost (the reason is a `LockLostError`) or released. */
  readonly signal: AbortSignal;
  /** The TTL each extension asks for. */
  readonly ttl: number;
  /** How many holders the key admits: 1 for a plain lease, more for a permit. */
  readonly limit: number;
  /** True while the lease is held and locally valid. */
  readonly held: boolean;
  /** Milliseconds of local validity left; 0 once lost or released. */
  remaining(): number;
  /** Throws the `LockLostError` if the lease is no longer held: call it just before a protected write. */
  assertHeld(): void;
  /**
   * Compare-and-extend now, by `ttl` (default: the lease's TTL, which it also becomes). Throws `LockLostError` if no longer ours.
   *
   * @param ttl - Milliseconds the store keeps the lock from now; it becomes the TTL later
   *   extensions ask for. Default: the lease's current `ttl`.
   */
  extend(ttl?: number): Promise<void>;
  /**
   * Compare-and-delete. Resolves `true` if the lease was still ours. Idempotent. A lease already
   * lost sends nothing and resolves `false`: its owner token may by now belong to someone else
   * (a job id held by the same job's next attempt).
   */
  release(): Promise<boolean>;
  /**
   * Stops watching and extending the lease but leaves it in the store until its TTL runs out,
   * for a claim that must outlive this process's hold on it (a job handed back to its queue).
   * Extend it first if it needs longer. The signal aborts; the lease is no longer `held` here.
   */
  detach(): void;
}

const leaseOptions = {
  ttl: ttl().required(),
  wait: wait().default(0),
  autoExtend: flag().default(true),
  signal: signal(),
  require: object<Requirements>(),
  owner: ownerOption,
  limit: count({ min: 1, max: MAX_LIMIT }).default(1),
};
const extendTtl = ttl().required();
const at = {
  extend: { pkg: '@oncelock/core', call: 'lease.extend()' },
  lease: { pkg: '@oncelock/core', call: 'lease()' },
  tryLease: { pkg: '@oncelock/core', call: 'tryLease()' },
};

/** What a lease call asks for, read and checked: the acquire's parameters and the handle's. */
interface Parsed extends AcquireParams {
  readonly autoExtend: boolean;
}

function parse(backend: LockBackend, key: string, options: LeaseOptions, call: keyof typeof at): Parsed {
  checkBackend(backend);
  checkKey(key);
  const where = at[call];
  // Each option read by name, not in a loop over the spec: on an in-process store that loop
  // cost as much as the rest of the option handling three times over.
  const o = optionsObject(options, leaseOptions, where, true);
  const ttl = leaseOptions.ttl.read(o.ttl, 'ttl', where);
  const wait = leaseOptions.wait.read(o.wait, 'wait', where);
  const autoExtend = leaseOptions.autoExtend.read(o.autoExtend, 'autoExtend', where);
  const signal = leaseOptions.signal.read(o.signal, 'signal', where);
  const require = leaseOptions.require.read(o.require, 'require', where);
  const owner = leaseOptions.owner.read(o.owner, 'owner', where);
  const limit = leaseOptions.limit.read(o.limit, 'limit', where);
  checkRequirements(backend, require);
  // One object, built once with every field: it is both the acquire's parameters and the handle's.
  return {
    key,
    owner: owner ?? newToken(),
    ttl,
    wait,
    signal,
    limit: permitLimit(backend, limit),
    autoExtend,
  };
}

/**
 * Takes the lock `key` on `backend`. With `wait: false` (the default) it tries once and throws
 * `LockNotAcquiredError` if the key is held; with a number it waits that many milliseconds and
 * then throws `WaitTimeoutError`. Bad input throws `InvalidArgumentError` before any round trip.
 *
 * @param backend - The store that holds the lock: `redisBackend(…)`, `memoryBackend()`.
 * @param key - The lock's name. Every caller that must not run at once uses the same key;
 *   at most 1,024 bytes of UTF-8, without NUL.
 * @param options - `ttl` (required, in milliseconds), and `wait`, `limit`, `owner`, `signal`,
 *   `autoExtend`, `require` (see {@link LeaseOptions} for each default).
 *
 * @example
 * await using l = await lease(backend, 'audit-backfill', { ttl: 10_000, wait: 5_000 });
 * await write(rows, l.fence);
 */
export function lease(backend: LockBackend, key: string, options: LeaseOptions): Promise<Lease> {
  return take(backend, key, options, 'lease', (p, result) => {
    const where = { backend: backend.name, pkg: backend.pkg };
    if (p.wait > 0) throw new WaitTimeoutError(key, p.wait, where);
    const why = result.stale ? 'was granted, but the reply came too late to trust within its TTL' : undefined;
    throw new LockNotAcquiredError(key, result.holder, where, why);
  });
}

/**
 * Like {@link lease}, but resolves `null` instead of throwing when the key stays held.
 *
 * @param backend - The store that holds the lock: `redisBackend(…)`, `memoryBackend()`.
 * @param key - The lock's name. Every caller that must not run at once uses the same key;
 *   at most 1,024 bytes of UTF-8, without NUL.
 * @param options - `ttl` (required, in milliseconds), and `wait`, `limit`, `owner`, `signal`,
 *   `autoExtend`, `require` (see {@link LeaseOptions} for each default).
 */
export function tryLease(backend: LockBackend, key: string, options: LeaseOptions): Promise<Lease | null> {
  return take(backend, key, options, 'tryLease', () => null);
}

/**
 * Reads the options and takes the lease; `refused` says what a refusal becomes. A plain
 * function, not an async one, and the handle is made where the store's answer arrives: every
 * async frame between the store and the caller costs a turn of the microtask queue, a good part
 * of an in-memory lease. Bad input still rejects rather than throws.
 */
function take<R>(
  backend: LockBackend,
  key: string,
  options: LeaseOptions,
  call: keyof typeof at,
  refused: (p: Parsed, result: Refusal) => R,
): Promise<Lease | R> {
  let p: Parsed;
  try {
    p = parse(backend, key, options, call);
  } catch (error) {
    return Promise.reject(error);
  }
  return acquireWithWait(backend, p, (result) =>
    result.granted ? new LeaseHandle(backend, key, p, result) : refused(p, result),
  );
}

/**
 * Runs `fn` under a lease on `key` and always releases it, whether `fn` resolves or throws.
 * `fn` receives the lease: watch `lease.signal` and send `lease.fence` with protected writes.
 *
 * @typeParam T - What `fn` returns; `withLease` resolves to it.
 * @param backend - The store that holds the lock.
 * @param key - The lock's name (at most 1,024 bytes of UTF-8, without NUL).
 * @param fn - The work, called once the lease is granted, with the lease; its result or error
 *   is `withLease`'s, after the release.
 * @param options - As for {@link lease}: `ttl` in milliseconds is required; with `wait: false`
 *   (the default) a held key throws `LockNotAcquiredError` and `fn` is not called.
 */
export async function withLease<T>(
  backend: LockBackend,
  key: string,
  fn: (lease: Lease) => Promise<T> | T,
  options: LeaseOptions,
): Promise<T> {
  const l = await lease(backend, key, options);
  try {
    return await withCurrentLease(l, () => fn(l));
  } finally {
    try {
      await l.release();
    } catch {
      // The lease ends at its TTL anyway; fn's own result or error is what the caller gets.
    }
  }
}

/** @internal Used by `once` to acquire with already-validated parameters. */
export async function acquireLease(
  backend: LockBackend,
  params: AcquireParams & { autoExtend: boolean },
): Promise<{ lease: Lease } | { lease: null; holder: Holder | undefined }> {
  const result = await acquireWithWait(backend, params);
  if (!result.granted) return { lease: null, holder: result.holder };
  return { lease: new LeaseHandle(backend, params.key, params, result) };
}

type State = 'held' | 'lost' | 'released';

/** The words of the `LockLostError` for each cause. */
const lostBecause: Record<LostCause, string> = {
  'not-held': 'the store no longer holds it for this owner (expired or taken over)',
  expired: 'no extension succeeded before its local validity ran out',
  closed: 'its backend was closed',
};

class LeaseHandle implements Lease, Beating {
  readonly key: string;
  readonly token: string;
  /** The limit of a permit, undefined for a plain lease: what the store's requests carry. */
  readonly permitOf: number | undefined;
  readonly #backend: LockBackend;
  /** The backend's heartbeat loop, looked up once rather than at every add and delete. */
  readonly #beat: Heartbeat;
  readonly #fence: number | undefined;
  // Made on first use of `signal`: most leases are released without anyone reading it, and an
  // AbortController plus its error cost more than the rest of a lease on a fast store.
  #controller: AbortController | undefined;
  #endedBecause: string | undefined;
  #lostError: LockLostError | undefined;
  readonly autoExtend: boolean;
  readonly #acquiredAt: number;
  #ttl: number;
  #renewedAt: number;
  #validUntil: number;
  #state: State = 'held';
  #released: Promise<boolean> | undefined;
  #reported = false;
  /** Where the backend's heartbeat keeps this lease; -1 when it does not. */
  heartbeatSlot = -1;

  constructor(
    backend: LockBackend,
    key: string,
    p: { ttl: number; owner: string; autoExtend: boolean; limit?: number | undefined },
    grant: Grant,
  ) {
    this.#backend = backend;
    this.key = key;
    this.token = p.owner;
    this.permitOf = p.limit;
    this.#ttl = p.ttl;
    this.#fence = grant.fence;
    this.autoExtend = p.autoExtend;
    this.#acquiredAt = grant.startedAt;
    this.#renewedAt = grant.startedAt;
    this.#validUntil = grant.validUntil;
    // Every lease is watched, so its signal fires when local validity ends even without auto-extension.
    this.#beat = heartbeatOf(backend);
    this.#beat.add(this);
  }

  get fence(): number {
    if (this.#fence === undefined || !this.#backend.guarantees.fencing)
      throw fencingUnsupported(this.#backend);
    return this.#fence;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#endedBecause !== undefined) this.#controller.abort(this.#reason());
    }
    return this.#controller.signal;
  }

  /** The error the lease ended with: the same object for `signal.reason` and `assertHeld()`. */
  #reason(): LockLostError {
    this.#lostError ??= new LockLostError(this.key, this.#endedBecause ?? 'it was released', this.#where());
    return this.#lostError;
  }

  /** Records why the lease ended (the first reason wins) and fires the signal if anyone has it. */
  #end(why: string): void {
    this.#endedBecause ??= why;
    if (this.#controller && !this.#controller.signal.aborted) this.#controller.abort(this.#reason());
  }

  get ttl(): number {
    return this.#ttl;
  }

  get limit(): number {
    return this.permitOf ?? 1;
  }

  get renewedAt(): number {
    return this.#renewedAt;
  }

  get expiresLocallyAt(): number {
    return this.#validUntil - safetyMargin(this.#ttl);
  }

  get held(): boolean {
    return this.remaining() > 0;
  }

  remaining(): number {
    if (this.#state !== 'held') return 0;
    const left = this.expiresLocallyAt - now();
    if (left <= 0) {
      // A frozen process wakes here before its timers run: it must not act on a dead lease.
      this.onLost('expired');
      return 0;
    }
    return left;
  }

  assertHeld(): void {
    if (this.remaining() > 0) return;
    throw this.#reason();
  }

  async extend(ttl: number = this.#ttl): Promise<void> {
    extendTtl.read(ttl, 'ttl', at.extend);
    this.assertHeld();
    const requestedAt = now();
    const ok = await call(this.#backend, 'extend', () =>
      this.#backend.extend(requestOf(this.key, this.token, ttl, this.permitOf)),
    );
    if (!ok) {
      this.onLost('not-held');
      this.assertHeld();
    }
    this.#ttl = ttl;
    this.onExtended(requestedAt);
    this.assertHeld();
  }

  onExtended(requestedAt: number): void {
    if (this.#state !== 'held' || requestedAt < this.#renewedAt) return;
    this.#renewedAt = requestedAt;
    this.#validUntil = Math.max(this.#validUntil, requestedAt + this.#ttl - driftFor(this.#ttl));
    if (hasListeners())
      emit({ type: 'extended', backend: this.#backend.name, key: this.key, tookMs: now() - requestedAt });
  }

  onLost(cause: LostCause): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#beat.delete(this);
    const why = lostBecause[cause];
    if (hasListeners())
      emit({
        type: 'lost',
        backend: this.#backend.name,
        key: this.key,
        reason: why,
        cause,
        heldMs: now() - this.#acquiredAt,
      });
    this.#end(why);
  }

  release(): Promise<boolean> {
    this.#released ??= this.#release();
    return this.#released;
  }

  #release(): Promise<boolean> {
    const wasLost = this.#state === 'lost';
    this.#state = 'released';
    this.#beat.delete(this);
    if (wasLost) return Promise.resolve(false);
    let sent: Promise<boolean>;
    try {
      sent = call(this.#backend, 'release', () =>
        this.#backend.release(releaseOf({ key: this.key, owner: this.token, limit: this.permitOf })),
      );
    } catch (error) {
      // Only a backend patched after it was made throws here; the caller still gets a rejection.
      sent = Promise.reject(error);
    }
    // What follows the answer hangs off it rather than standing between it and the caller: these
    // reactions were registered first, so they have run when the caller resumes, a turn of the
    // microtask queue sooner than behind an async frame. Neither of them throws.
    sent.then(
      (ok) => this.#settled(ok),
      () => {
        // A release the store did not answer may be tried again; one that was answered is final.
        this.#released = undefined;
        this.#settled(false);
      },
    );
    return sent;
  }

  /** The release was answered, or failed: report it once and end the lease here either way. */
  #settled(wasHeld: boolean): void {
    // Reported once, even when the store failed: this process no longer holds the lease either way.
    if (!this.#reported && hasListeners())
      emit({
        type: 'released',
        backend: this.#backend.name,
        key: this.key,
        heldMs: now() - this.#acquiredAt,
        wasHeld,
      });
    this.#reported = true;
    this.#end('it was released');
  }

  detach(): void {
    if (this.#state !== 'held') return;
    this.#state = 'released';
    this.#beat.delete(this);
    if (hasListeners())
      emit({
        type: 'detached',
        backend: this.#backend.name,
        key: this.key,
        heldMs: now() - this.#acquiredAt,
      });
    this.#end('it was detached');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  #where() {
    return { backend: this.#backend.name, pkg: this.#backend.pkg };
  }
}
