import { releaseOf } from '../acquire.js';
import { markGuarded } from '../call.js';
import type {
  AcquireRequest,
  AcquireResult,
  ExtendRequest,
  Guarantees,
  Holder,
  LockBackend,
  ReleaseRequest,
  Unsubscribe,
} from '../contract.js';
import { BackendClosedError, OncelockError } from '../errors.js';
import { endLeases } from '../heartbeat.js';
import { unavailable } from './failure.js';
import { within } from './within.js';

/** Longest `close()` waits for the releases of leases still held, in milliseconds. */
const RELEASE_ON_CLOSE = 2000;

/**
 * What a store does, one atomic round trip an operation. `acquire`, `release`, `inspect` and one
 * of `extend` or `extendMany` are required; the kit makes the other of the two. Any further
 * function (`migrate`, say) is guarded like the rest and appears on the backend as it is.
 */
export type StoreOps = RequiredOps & (ExtendOne | ExtendBatch);

/** The optional operations of the contract, typed as there; a store gives those it can. */
type OptionalOps = Pick<
  LockBackend,
  'rateLimit' | 'notify' | 'listen' | 'saveState' | 'loadState' | 'deleteState'
>;

/** The operations every store gives, the contract's optional ones it has, and any further ones of its own. */
export interface RequiredOps extends OptionalOps {
  /**
   * Take `key` for `owner` if free, expired, or already `owner`'s (see `LockBackend.acquire`).
   *
   * @param request - The key, the owner, the TTL in milliseconds and, for a permit, the limit.
   */
  acquire(request: AcquireRequest): Promise<AcquireResult>;
  /**
   * Compare-and-delete (see `LockBackend.release`).
   *
   * @param request - The key and the owner that holds it.
   */
  release(request: ReleaseRequest): Promise<boolean>;
  /**
   * Who holds `key` now, or `null` (see `LockBackend.inspect`).
   *
   * @param key - The caller's key, without the backend's namespace prefix.
   */
  inspect(key: string): Promise<Holder | null>;
  /**
   * Release notifications (see `LockBackend.subscribe`).
   *
   * @param key - The key to watch.
   * @param listener - Called when the key may have become free; it must not throw.
   * @param owner - The waiter's owner token, by which a store that wakes one waiter names it. Optional.
   */
  subscribe?(key: string, listener: () => void, owner?: string): Promise<Unsubscribe>;
  /**
   * Every held key under `prefix` (see `LockBackend.list`).
   *
   * @param prefix - Keys starting with this. Default: every key.
   */
  list?(prefix?: string): Promise<Array<Holder & { key: string }>>;
  /** Further operations of this backend (`migrate`), guarded like the rest. */
  // biome-ignore lint/suspicious/noExplicitAny: further operations keep their own signatures
  [operation: string]: ((...args: any[]) => Promise<unknown>) | undefined;
}

/** A store that extends one lease a round trip; the kit sends a batch as several. */
export interface ExtendOne {
  /**
   * Compare-and-extend (see `LockBackend.extend`).
   *
   * @param request - The key, the owner that holds it and the new TTL in milliseconds.
   */
  extend(request: ExtendRequest): Promise<boolean>;
  /**
   * Batched compare-and-extend, if the store has it too.
   *
   * @param requests - One extend request per lease or permit, answered in order.
   */
  extendMany?(requests: readonly ExtendRequest[]): Promise<boolean[]>;
}

/** A store that extends a batch in one round trip; the kit sends one lease as a batch of one. */
export interface ExtendBatch {
  /**
   * Batched compare-and-extend (see `LockBackend.extendMany`).
   *
   * @param requests - One extend request per lease or permit, answered in order.
   */
  extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]>;
  /**
   * Compare-and-extend of one, if the store has it too.
   *
   * @param request - The key, the owner that holds it and the new TTL in milliseconds.
   */
  extend?(request: ExtendRequest): Promise<boolean>;
}

/**
 * Everything {@link defineBackend} needs to make a backend.
 *
 * @typeParam Ops - The store's operations, as given in `ops`.
 * @typeParam Props - The further fields of the backend object, as given in `props`.
 */
export interface BackendDefinition<Ops extends StoreOps, Props extends object> {
  /** Short name for errors and events: `redis`, `postgres-table`. */
  readonly name: string;
  /** The package the user installs, for error messages: `@oncelock/redis`. */
  readonly pkg: string;
  /** What the store promises; core checks callers' `require` and `limit` against it. */
  readonly guarantees: Guarantees;
  /** The store's operations; each is guarded (closed, timeout, typed errors) on the backend. */
  readonly ops: Ops;
  /**
   * Longest one operation may take, in milliseconds; past it the call fails with
   * `BackendUnavailableError` (a late answer is dropped). Leave it out when the store's
   * client bounds its own calls.
   */
  readonly timeout?: number;
  /** Other fields of the backend object, as they are: `mode`, `schema`. */
  readonly props?: Props;
  /** Frees connections and timers. Called once, after new calls have begun to be refused. */
  close?(): Promise<void>;
}

/**
 * The backend {@link defineBackend} makes: the contract with both extends, plus the extra operations and props.
 *
 * @typeParam Ops - The store's operations.
 * @typeParam Props - The further fields of the backend object.
 */
export type DefinedBackend<Ops extends StoreOps, Props extends object> = LockBackend &
  Required<Pick<LockBackend, 'extend' | 'extendMany'>> &
  Omit<Ops, 'extend' | 'extendMany'> &
  Props;

type AnyOp = (...args: unknown[]) => Promise<unknown>;

/**
 * Makes a backend from a store's operations. Every operation is refused with
 * `BackendClosedError` once `close()` has begun, before any round trip; a store error becomes
 * a `BackendUnavailableError` naming the operation, the package and the backend (one cut short
 * by `close()` becomes `BackendClosedError`); each call is bounded by `timeout`; `extend` and
 * `extendMany` are made from whichever the store gives; `close()` ends the leases still held on
 * the backend (their signals fire, saying why), releases them in the store (best effort, for at
 * most two seconds), then runs the store's `close` once, however often it is called.
 *
 * @example
 * export function mapBackend(): LockBackend {
 *   const table = new Map<string, { owner: string; until: number }>();
 *   return defineBackend({ name: 'map', pkg: 'my-map-backend', guarantees, ops: { acquire, release, inspect, extend } });
 * }
 *
 * @typeParam Ops - The store's operations, inferred from `definition.ops`.
 * @typeParam Props - The further fields, inferred from `definition.props`. Default: none.
 * @param definition - The name, package, guarantees, operations, per-operation timeout in
 *   milliseconds (optional), further fields and close of the store.
 */
export function defineBackend<Ops extends StoreOps, Props extends object = object>(
  definition: BackendDefinition<Ops, Props>,
): DefinedBackend<Ops, Props> {
  const { name, pkg, guarantees, ops, timeout } = definition;
  const where = { backend: name, pkg };
  let closing: Promise<void> | undefined;

  const failure = (what: string, error: unknown) =>
    // A call cut short by close() is reported as such, not as an outage.
    closing && !(error instanceof OncelockError)
      ? new BackendClosedError({ ...where, cause: error })
      : unavailable(where, what, error);

  /**
   * Calls `fn` with `args` as one guarded operation; `fail` types its error. No closure is made
   * per call: on the memory backend, one a call was a sixth of all it allocated.
   */
  function run(what: string, fail: (error: unknown) => never, fn: AnyOp, args: unknown[]): Promise<unknown> {
    if (closing) return Promise.reject(new BackendClosedError(where));
    let work: Promise<unknown>;
    try {
      work = fn.apply(ops, args);
    } catch (error) {
      return Promise.reject(failure(what, error));
    }
    if (timeout !== undefined) work = within(work, timeout);
    return work.catch(fail);
  }

  /** The operation `what` guarded: refused once closing, bounded in time, its errors typed. */
  function guard(what: string, fn: AnyOp): AnyOp {
    const fail = (error: unknown): never => {
      throw failure(what, error);
    };
    return (...args) => run(what, fail, fn, args);
  }

  const guarded: Record<string, AnyOp> = {};
  for (const [op, fn] of Object.entries(ops)) {
    if (typeof fn === 'function') guarded[op] = guard(op, fn as AnyOp);
  }
  const { extend, extendMany } = ops;
  if (!extendMany) {
    guarded.extendMany = guard('extendMany', (requests) =>
      Promise.all((requests as ExtendRequest[]).map((r) => extend!.call(ops, r))),
    );
  }
  if (!extend) {
    guarded.extend = guard(
      'extend',
      async (request) => (await extendMany!.call(ops, [request as ExtendRequest]))[0] === true,
    );
  }

  /**
   * A lease still held when its backend closes is ended (its signal fires, saying why) and
   * released in the store, best effort and bounded in time, so the key is free for others now
   * rather than at its TTL.
   */
  async function releaseHeld(): Promise<void> {
    const held = endLeases(backend, 'closed');
    if (held.length === 0) return;
    const releases = held.map((l) =>
      ops.release(releaseOf({ key: l.key, owner: l.token, limit: l.permitOf })).catch(() => false),
    );
    await within(Promise.all(releases), Math.min(timeout ?? RELEASE_ON_CLOSE, RELEASE_ON_CLOSE)).catch(
      () => {},
    );
  }

  const backend = {
    ...definition.props,
    ...guarded,
    name,
    pkg,
    guarantees,
    close() {
      closing ??= (async () => {
        await releaseHeld();
        try {
          await definition.close?.();
        } catch (error) {
          throw unavailable(where, 'close', error);
        }
      })();
      return closing;
    },
  } as unknown as DefinedBackend<Ops, Props>;
  markGuarded(backend);
  return backend;
}
