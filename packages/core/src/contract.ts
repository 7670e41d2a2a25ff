/**
 * The backend contract: the only thing a store must implement to serve oncelock.
 *
 * Every operation is one atomic round trip, keyed by the caller's key (the backend adds
 * its own namespace prefix) and an owner token. Core validates every argument before it
 * reaches a backend, so a backend may assume: `key` is a non-empty string of at most
 * {@link MAX_KEY_LENGTH} bytes in UTF-8 with no NUL, `owner` a non-empty string of at most
 * {@link MAX_OWNER_LENGTH}, and `ttl` a whole number of milliseconds in
 * [{@link MIN_TTL}, {@link MAX_TTL}].
 *
 * Requests are objects so that the contract can grow without breaking backends. A request
 * with a `limit` (2 or more) is for a permit: one of at most `limit` holders of the key, each
 * with its own TTL and fence. Core sends one only to a backend that declares `maxLimit` in its
 * {@link Guarantees}; a request without `limit` is a plain lease, the one holder of its key.
 */

/** How strongly a backend keeps two owners from holding one key at once. */
export type Exclusion = 'strict' | 'quorum' | 'best-effort';

/** What a backend promises. Core refuses a request that needs more, with a typed error. */
export interface Guarantees {
  /** `strict`: one store decides; `quorum`: a majority of stores decides (Redlock); `best-effort`: racy. */
  readonly exclusion: Exclusion;
  /** Fences strictly increase per key, across release, expiry and store restarts. */
  readonly fencing: boolean;
  /** When a dead (crashed, killed) holder's lock ends. */
  readonly deadHolder: 'with-process' | 'at-ttl' | 'with-session';
  /** When a frozen (stopped, paused) holder's lock ends. */
  readonly frozenHolder: 'not-applicable' | 'at-ttl' | 'server-timeout';
  /** Waiters are woken by a release notification rather than by polling alone. */
  readonly releaseNotifications: boolean;
  /**
   * The largest `limit` the backend serves (at most that many holders of one key at once).
   * Absent: 1, plain leases only; core refuses a larger limit with `CapabilityUnsupportedError`.
   */
  readonly maxLimit?: number;
}

/** What a backend knows about whoever holds a key. Times are wall-clock, for display only. */
export interface Holder {
  /** The holder's owner token (a lease token or a job id). */
  readonly owner: string;
  /** The fence of the holder's grant, on backends that fence. */
  readonly fence?: number;
  /** Milliseconds of TTL left, as the store sees it. */
  readonly ttlRemaining?: number;
  /** Wall-clock time (epoch ms) the holder acquired the key, if the store records it. */
  readonly since?: number;
  /** Present on a permit: the limit of its key. */
  readonly limit?: number;
  /**
   * From `inspect`, on a key held by permits: every holder, oldest first (this holder is the
   * first of them).
   */
  readonly holders?: readonly Holder[];
}

/** Asks the store to take `key` for `owner` for `ttl` milliseconds. */
export interface AcquireRequest {
  /** The caller's key, without the backend's namespace prefix (the backend adds it). */
  readonly key: string;
  /** The owner token the grant is made to: a lease's random token, or a job id. */
  readonly owner: string;
  /** Milliseconds until the grant ends unless extended. */
  readonly ttl: number;
  /**
   * Set on the tries of a caller that waits for the key and has subscribed to its release
   * notifications. A backend may queue such a caller, so that a release wakes one waiter
   * rather than every one.
   */
  readonly waiting?: boolean;
  /**
   * Present (2 or more) on a permit: grant it while fewer than `limit` owners hold the key. Every
   * holder of a key asks with the same limit; a store that finds the key held under another
   * limit (or as a plain lease, limit 1) refuses and says which in the refusal's `limit`.
   */
  readonly limit?: number;
}

/**
 * A grant, or a refusal with what is known of the holder.
 * Acquire is re-entrant per owner: acquiring a key the same owner already holds is granted,
 * keeps the fence, and resets the TTL. This is how a running job adopts the claim that was
 * made for it at enqueue time (its owner is the job id).
 */
export type AcquireResult =
  | {
      readonly granted: true;
      readonly fence?: number;
      /**
       * When the grant's TTL may have started before this request was sent, the `performance.now()`
       * of this process no later than that start; core counts local validity from it. A store that
       * hands a released key straight to a waiter sets the TTL at the release, after the waiter's
       * earlier request queued it: it answers that request's send time, not the later call's.
       */
      readonly validFrom?: number;
    }
  | {
      readonly granted: false;
      readonly holder?: Holder;
      /** The limit the key is held under, when a store has it: 1 for a plain lease. */
      readonly limit?: number;
    };

/** Asks the store to restart the TTL of `key` if `owner` still holds it. */
export interface ExtendRequest {
  /** The key as it was acquired, without the backend's namespace prefix. */
  readonly key: string;
  /** The owner token it was granted to; another owner's grant is left alone. */
  readonly owner: string;
  /** Milliseconds the grant lasts from now, replacing what was left of the old TTL. */
  readonly ttl: number;
  /** Present on a permit: the limit it was granted under. */
  readonly limit?: number;
}

/** Asks the store to delete `key` if `owner` still holds it. */
export interface ReleaseRequest {
  /** The key as it was acquired, without the backend's namespace prefix. */
  readonly key: string;
  /** The owner token it was granted to; another owner's grant is left alone. */
  readonly owner: string;
  /** Present on a permit: the limit it was granted under. */
  readonly limit?: number;
}

/**
 * Asks the store for one start of `key` under a rate of `limit` starts per `per` milliseconds,
 * decided by GCRA (the generic cell rate algorithm) on the store's clock. The store keeps one
 * number per key, its theoretical arrival time `tat`; with `T = per / limit` and
 * `tau = burst * T`, at the store's time `now`:
 *
 * - `base = max(tat, now)` (an absent or expired key has `tat = now`);
 * - the earliest start is `slot = max(now, base - tau)`, so `delay = slot - now`;
 * - if `delay > reserve` the start is refused: `retryAfter = delay`, and nothing is stored;
 * - else it is granted at `slot`: `tat = base + T` is stored (it may be forgotten once
 *   `tat <= now`), and `remaining` says how many more would be granted at `now` without delay.
 *
 * Granted starts then never exceed `limit + burst` in any window of `per` milliseconds (half
 * open), and there is no burst at window edges, unlike a fixed window.
 */
export interface RateRequest {
  /** The caller's key, without the backend's namespace prefix; rate state is kept apart from locks. */
  readonly key: string;
  /** Starts allowed per window: a whole number, at least 1. */
  readonly limit: number;
  /** The window, in milliseconds: a whole number, at least 1. */
  readonly per: number;
  /** Starts allowed at once beyond the even pace after an idle spell: a whole number, 0 or more. */
  readonly burst: number;
  /**
   * How far ahead, in milliseconds, a start may be granted: a caller that will wait reserves
   * its slot now (so waiters get slots in the order they asked) and sleeps `delay`. 0: now or not.
   */
  readonly reserve: number;
}

/** A store's rate decision. Times are milliseconds on the store's clock. */
export type RateDecision =
  | {
      readonly allowed: true;
      /** Starts still granted at once after this one. */
      readonly remaining: number;
      /** Milliseconds from the decision to the start's slot: 0 unless it was reserved ahead. */
      readonly delay: number;
      /** The slot's time on the store's clock, in milliseconds: comparable only with other `at`s of one store. */
      readonly at: number;
    }
  | {
      readonly allowed: false;
      /** Milliseconds until a start would be granted, as things stand. */
      readonly retryAfter: number;
    };

/** Asks the store to keep `value` for `key` on behalf of `owner`, the holder of `key`'s lease. */
export interface SaveStateRequest {
  /** The key of the lease whose holder may save; state is kept apart from locks. */
  readonly key: string;
  /** The owner token of the lease: the save is refused unless it holds `key` (a plain lease) now. */
  readonly owner: string;
  /** The lease's fence, on fencing backends: a save under a smaller fence than the last one stored is refused. */
  readonly fence?: number;
  /** What to keep: a string (core stores JSON) of at most {@link MAX_STATE_LENGTH} bytes of UTF-8. */
  readonly value: string;
}

/** What {@link LockBackend.loadState} finds. */
export interface SavedState {
  /** The value as it was saved. */
  readonly value: string;
  /** The fence it was saved under, on fencing backends. */
  readonly fence?: number;
  /** Wall-clock time (epoch ms) of the save, for display. */
  readonly savedAt: number;
}

/** Stops a subscription made with {@link LockBackend.subscribe}. */
export type Unsubscribe = () => void;

/**
 * A lock store. Backends are factories returning a plain object of this shape.
 * Required: `acquire`, `extend`, `release`, `inspect`, `close`. Optional methods are
 * declared by their presence; core falls back when one is missing (for example, without
 * `extendMany` the heartbeat sends one `extend` per lease; without `subscribe` waiters poll).
 */
export interface LockBackend {
  /** Short name used in errors and events: `memory`, `redis`, `redis-cluster`, `redlock`, `postgres`, `keyv`. */
  readonly name: string;
  /** The package that implements it, for error messages. */
  readonly pkg: string;
  /** What the backend promises; core checks a caller's `require` and `limit` against it. */
  readonly guarantees: Guarantees;

  /**
   * Take `key` for `owner` if free, expired, or already `owner`'s.
   *
   * @param request - The key, owner, TTL in milliseconds and, for a permit, the limit.
   */
  acquire(request: AcquireRequest): Promise<AcquireResult>;
  /**
   * Compare-and-extend: resolves `true` only if `owner` still holds `key`; the TTL restarts from now.
   *
   * @param request - The key, the owner that holds it and the new TTL in milliseconds.
   */
  extend(request: ExtendRequest): Promise<boolean>;
  /**
   * Compare-and-delete: resolves `true` only if `owner` held `key` until now.
   *
   * @param request - The key and the owner that holds it.
   */
  release(request: ReleaseRequest): Promise<boolean>;
  /**
   * Who holds `key` now, or `null`. Never blocks on the lock itself.
   *
   * @param key - The caller's key, without the backend's namespace prefix.
   */
  inspect(key: string): Promise<Holder | null>;
  /** Releases connections and timers. Later calls reject with `BackendClosedError`. Idempotent. */
  close(): Promise<void>;

  /**
   * Batched compare-and-extend: one result per request, in order. Used by the heartbeat loop.
   *
   * @param requests - One extend request per lease or permit; may mix keys and owners.
   */
  extendMany?(requests: readonly ExtendRequest[]): Promise<boolean[]>;
  /**
   * Calls `listener` when `key` may have become free (released or deleted). Resolves once the
   * subscription is live, so a release after that is not missed. Notifications may be lost;
   * core always keeps a fallback poll. `owner` is the waiter's owner token, as in its
   * `waiting` acquires: a backend that wakes one waiter at a time can wake this one by it.
   *
   * @param key - The key to watch, without the backend's namespace prefix.
   * @param listener - Called with no arguments, possibly more than once; it must not throw.
   * @param owner - The waiter's owner token, by which a store that wakes one waiter names it.
   *   Optional: a backend that ignores it wakes every listener.
   */
  subscribe?(key: string, listener: () => void, owner?: string): Promise<Unsubscribe>;
  /**
   * Every held key under the backend's namespace whose key starts with `prefix`, in one round
   * trip: one row per holder, so a key held by permits appears once per permit, with its `limit`.
   *
   * @param prefix - Keys starting with this (without the namespace prefix). Default: every key.
   */
  list?(prefix?: string): Promise<Array<Holder & { key: string }>>;

  /**
   * One rate decision in one round trip (see {@link RateRequest}). Absent: core refuses rate
   * limits on this backend with `CapabilityUnsupportedError`.
   *
   * @param request - The key, the rate (`limit` per `per` ms), the burst and how far ahead a slot may be reserved.
   */
  rateLimit?(request: RateRequest): Promise<RateDecision>;
  /**
   * Sends a wake-up on `topic` to every live {@link LockBackend.listen} listener, in every
   * process. Nothing is queued: a listener that is not live misses it, and a burst may arrive
   * as fewer calls.
   *
   * @param topic - The topic, without the backend's namespace prefix (rules as for keys).
   */
  notify?(topic: string): Promise<void>;
  /**
   * Calls `listener` on wake-ups sent to `topic`. Resolves once the subscription is live.
   *
   * @param topic - The topic, without the backend's namespace prefix.
   * @param listener - Called with no arguments; it must not throw.
   */
  listen?(topic: string, listener: () => void): Promise<Unsubscribe>;
  /**
   * Keeps a value for `key` if `owner` holds `key`'s lease now and no save under a greater fence
   * is stored; resolves whether it was kept. Used by loops to keep their cursor.
   *
   * @param request - The key, the holder's owner token and fence, and the value.
   */
  saveState?(request: SaveStateRequest): Promise<boolean>;
  /**
   * The value last saved for `key`, or `null`. Never blocks on the lock.
   *
   * @param key - The key it was saved under.
   */
  loadState?(key: string): Promise<SavedState | null>;
  /**
   * Forgets the value saved for `key`, whoever holds the lock; resolves whether there was one.
   *
   * @param key - The key it was saved under.
   */
  deleteState?(key: string): Promise<boolean>;
}

/**
 * Longest key core accepts, in bytes of UTF-8: what stores limit (a PostgreSQL btree entry holds
 * about 2.7 kB, so 1,024 bytes leave room for prefixes and suffixes on every backend).
 */
export const MAX_KEY_LENGTH = 1024;
/** Longest owner token core accepts. */
export const MAX_OWNER_LENGTH = 256;
/** Shortest TTL core accepts, in milliseconds. */
export const MIN_TTL = 10;
/** Longest TTL core accepts (the largest delay a Node.js timer can hold): about 24.8 days. */
export const MAX_TTL = 2_147_483_647;
/** Largest `limit` core accepts: more permits than that is no limit worth a round trip. */
export const MAX_LIMIT = 10_000;
/** Longest state value core accepts, in bytes of UTF-8: a cursor and progress, not a payload. */
export const MAX_STATE_LENGTH = 65_536;
