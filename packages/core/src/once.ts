import { acquireWithWait } from './acquire.js';
import { call } from './call.js';
import { checkRequirements, type Requirements } from './capabilities.js';
import type { Holder, LockBackend } from './contract.js';
import { withCurrentLease } from './current.js';
import { LockNotAcquiredError, WaitTimeoutError } from './errors.js';
import { emit, hasListeners, type OnceStatus } from './events.js';
import { acquireLease, type Lease } from './lease.js';
import { object, oneOf, signal, ttl, wait } from './options/kinds.js';
import { readOptions } from './options/read.js';
import { newToken } from './token.js';
import { checkBackend, checkKey, checkOwner, keyOption } from './validate.js';

/**
 * When a once-claim is held:
 * - `whileRunning`: from start to finish. Duplicates may queue, never run together.
 * - `untilRunning`: from enqueue to start. Dedupes the queue; a running job can enqueue its successor.
 * - `untilDone`: from enqueue to finish. At most one queued-or-running: a periodic scan.
 * - `queuedAndRunning`: a queued-slot claim plus a running claim. At most one waiting and one running:
 *   the self-requeueing backlog drainer.
 */
export type OnceMode = 'whileRunning' | 'untilRunning' | 'untilDone' | 'queuedAndRunning';
/** Every {@link OnceMode}, in order of how long the claim is held. */
export const onceModes: readonly OnceMode[] = [
  'whileRunning',
  'untilRunning',
  'untilDone',
  'queuedAndRunning',
];

/** What to do when the claim is held by someone else. Contention is never a failure by default. */
export type OnConflict = 'cancel' | 'throw' | 'wait';
const conflicts: readonly OnConflict[] = ['cancel', 'throw', 'wait'];

/** Options of {@link once}. */
export interface OnceOptions {
  /** The work's key: its name plus the arguments that make it distinct (see `argsKey`). */
  key: string;
  /** Default `untilDone`. */
  mode?: OnceMode;
  /** TTL of the running claim, extended by the heartbeat while the work runs. Default 30 s. */
  ttl?: number;
  /**
   * TTL of a claim made at enqueue time, which nobody extends while the job waits in a queue:
   * the longest a job may sit queued before its claim lapses. Default 1 hour.
   */
  queuedTtl?: number;
  /** Default `cancel`: a typed "skipped" result. `throw` throws `LockNotAcquiredError`; `wait` waits. */
  onConflict?: OnConflict;
  /** With `onConflict: 'wait'`, how long to wait before `WaitTimeoutError`. Default: `ttl`. */
  wait?: number;
  /**
   * What the backend must guarantee (exclusion, fencing); a backend that falls short is refused
   * with `CapabilityUnsupportedError` when `once` is called. Default: nothing required.
   */
  require?: Requirements;
}

/** The result of work skipped because another instance holds its key; `holder` is what the store knows of it. */
export type Cancelled = { readonly status: 'cancelled'; readonly reason: 'locked'; readonly holder?: Holder };
/**
 * The result of guarded work: it ran and returned `value`, or it was cancelled.
 *
 * @typeParam T - What the work returns.
 */
export type RunResult<T> = { readonly status: 'ran'; readonly value: T } | Cancelled;
/** The result of {@link OnceGuard.enqueue}: the claim was made, or the work is already queued or running. */
export type EnqueueResult = { readonly status: 'claimed' } | Cancelled;
/** `busy`: a `queuedAndRunning` job whose predecessor still runs; it keeps its queued slot and should retry later. */
export type StartResult =
  | { readonly status: 'started'; readonly run: RunClaim }
  | Cancelled
  | { readonly status: 'busy'; readonly holder?: Holder };

/** The running half of a once-claim, handed to the work. */
export interface RunClaim {
  /** The running claim's lease; absent in `untilRunning`, which holds nothing while running. */
  readonly lease: Lease | undefined;
  /** Aborts if the running claim is lost. Never aborts in `untilRunning`. */
  readonly signal: AbortSignal;
  /** Releases the running claim. Idempotent. */
  finish(): Promise<void>;
}

/** The claim primitives for one key, returned by {@link once}. */
export interface OnceGuard {
  /** The work's key, as given in {@link OnceOptions.key}. */
  readonly key: string;
  /** The mode the guard holds its claims in (default `untilDone`). */
  readonly mode: OnceMode;
  /**
   * Enqueue time: claim for `owner` (the job id) in modes that hold a claim while queued.
   *
   * @param owner - The job's id: the start of the same job adopts the claim made for it.
   * @param options - Per call.
   * @param options.signal - Aborts a wait (`onConflict: 'wait'`) with `WaitAbortedError`. Optional.
   */
  enqueue(owner: string, options?: { signal?: AbortSignal }): Promise<EnqueueResult>;
  /**
   * Run time: take the running claim for `owner`, handing over the claim made at enqueue.
   *
   * @param owner - The job's id, the same as at enqueue.
   * @param options - Per call.
   * @param options.signal - Aborts a wait (`onConflict: 'wait'`) with `WaitAbortedError`. Optional.
   */
  start(owner: string, options?: { signal?: AbortSignal }): Promise<StartResult>;
  /**
   * Give up every claim `owner` holds: its job was removed or finally failed.
   *
   * @param owner - The job's id; claims held by other owners are left alone.
   */
  abandon(owner: string): Promise<void>;
  /**
   * The whole life of one call of a plain async function under this guard.
   *
   * @typeParam T - What `fn` returns.
   * @param fn - The work, called only when the claim is taken; `run.signal` aborts if it is lost.
   * @param options - Per call.
   * @param options.signal - Aborts a wait (`onConflict: 'wait'`) with `WaitAbortedError`. Optional.
   */
  run<T>(fn: (run: RunClaim) => Promise<T> | T, options?: { signal?: AbortSignal }): Promise<RunResult<T>>;
}

/**
 * The key of the slot a job holds while queued, in modes that have a separate one.
 *
 * @param key - The work's key; the slot's key is it with `:queued` appended.
 */
export const queuedSlot = (key: string): string => `${key}:queued`;

const onceOptions = {
  key: keyOption,
  mode: oneOf(onceModes).default('untilDone'),
  ttl: ttl().default(30_000),
  queuedTtl: ttl().default(3_600_000),
  onConflict: oneOf(conflicts).default('cancel'),
  wait: wait(),
  require: object<Requirements>(),
};
const at = { pkg: '@oncelock/core', call: 'once()' };
const callOptions = { signal: signal() };
const readSignal = (opts: unknown, call: string) =>
  readOptions(opts, callOptions, { pkg: '@oncelock/core', call }).signal;

/**
 * At most one pending and/or running instance of the work named by `options.key`.
 * The returned guard has the claim primitives that queue adapters use (`enqueue`, `start`,
 * `abandon`) and `run` for plain functions.
 *
 * @param backend - The store that holds the claims.
 * @param options - The key, the mode, the TTLs in milliseconds and what to do on a conflict.
 */
export function once(backend: LockBackend, options: OnceOptions): OnceGuard {
  checkBackend(backend);
  const o = readOptions(options, onceOptions, at, true);
  const { key, mode, ttl, queuedTtl, onConflict } = o;
  // The queued slot's key must fit the backend contract's limit too.
  checkKey(queuedSlot(key), 'key with its ":queued" suffix');
  const wait = onConflict === 'wait' ? (o.wait ?? ttl) : 0;
  checkRequirements(backend, o.require);
  const where = { backend: backend.name, pkg: backend.pkg };

  const conflict = (slot: string, holder: Holder | undefined): Cancelled => {
    if (onConflict === 'throw') throw new LockNotAcquiredError(slot, holder, where);
    if (onConflict === 'wait') throw new WaitTimeoutError(slot, wait, where);
    if (hasListeners()) emit({ type: 'skipped', backend: backend.name, key, mode, holder });
    return holder
      ? { status: 'cancelled', reason: 'locked', holder }
      : { status: 'cancelled', reason: 'locked' };
  };

  const release = (slot: string, owner: string) =>
    call(backend, 'release', () => backend.release({ key: slot, owner }));

  async function runningClaim(owner: string, waitMs: number, signal?: AbortSignal) {
    return acquireLease(backend, { key, owner, ttl, wait: waitMs, signal, autoExtend: true });
  }

  /** Reports how a step ended, as a `once` event; costs nothing when nobody listens. */
  const reported = <R extends { status: OnceStatus }>(
    step: 'enqueue' | 'start' | 'run',
    work: () => Promise<R>,
  ): Promise<R> => {
    if (!hasListeners()) return work();
    const report = (status: OnceStatus) =>
      emit({ type: 'once', backend: backend.name, key, mode, step, status });
    return work().then(
      (r) => {
        report(r.status);
        return r;
      },
      (error: unknown) => {
        report('failed');
        throw error;
      },
    );
  };

  // The steps without their report: `run` calls them and reports only its own outcome.
  async function enqueue(owner: string, opts: { signal?: AbortSignal } = {}): Promise<EnqueueResult> {
    checkOwner(owner);
    const signal = readSignal(opts, 'enqueue()');
    if (mode === 'whileRunning') return { status: 'claimed' };
    const slot = mode === 'untilDone' ? key : queuedSlot(key);
    const r = await acquireWithWait(backend, { key: slot, owner, ttl: queuedTtl, wait, signal, claim: true });
    return r.granted ? { status: 'claimed' } : conflict(slot, r.holder);
  }

  const guard: OnceGuard = {
    key,
    mode,
    enqueue: (owner, opts) => reported('enqueue', () => enqueue(owner, opts)),
    start: (owner, opts) => reported('start', () => start(owner, opts)),
    async abandon(owner) {
      checkOwner(owner);
      await Promise.all([release(key, owner), release(queuedSlot(key), owner)]);
    },
    run: (fn, opts) => reported('run', () => run(fn, opts)),
  };

  async function start(owner: string, opts: { signal?: AbortSignal } = {}): Promise<StartResult> {
    checkOwner(owner);
    const signal = readSignal(opts, 'start()');
    if (mode === 'untilRunning') {
      await release(queuedSlot(key), owner);
      return { status: 'started', run: unguarded() };
    }
    // In queuedAndRunning a busy running slot means "run later", so it never waits here.
    const r = await runningClaim(owner, mode === 'queuedAndRunning' ? 0 : wait, signal);
    if (!r.lease) {
      if (mode === 'queuedAndRunning')
        return r.holder ? { status: 'busy', holder: r.holder } : { status: 'busy' };
      return conflict(key, r.holder);
    }
    // The queued slot is free for a successor as soon as this job runs.
    if (mode === 'queuedAndRunning') await release(queuedSlot(key), owner).catch(() => false);
    return { status: 'started', run: guarded(r.lease) };
  }

  async function run<T>(
    fn: (run: RunClaim) => Promise<T> | T,
    opts: { signal?: AbortSignal } = {},
  ): Promise<RunResult<T>> {
    const signal = readSignal(opts, 'run()');
    const owner = newToken();
    let started: StartResult;
    if (mode === 'queuedAndRunning') {
      // Hold the queued slot with a live lease (this process is the queue), then wait our turn.
      const queued = await acquireLease(backend, {
        key: queuedSlot(key),
        owner,
        ttl,
        wait,
        signal,
        autoExtend: true,
      });
      if (!queued.lease) return conflict(queuedSlot(key), queued.holder);
      try {
        const r = await runningClaim(owner, Math.max(queuedTtl, wait), signal);
        started = r.lease ? { status: 'started', run: guarded(r.lease) } : conflict(key, r.holder);
      } finally {
        await queued.lease.release().catch(() => false);
      }
    } else if (mode === 'untilRunning') {
      const e = await enqueue(owner, { signal });
      if (e.status !== 'claimed') return e;
      started = await start(owner, { signal });
    } else {
      const r = await runningClaim(owner, wait, signal);
      started = r.lease ? { status: 'started', run: guarded(r.lease) } : conflict(key, r.holder);
    }
    if (started.status !== 'started')
      return started.status === 'busy' ? conflict(key, started.holder) : started;
    try {
      const run = started.run;
      return { status: 'ran', value: await withCurrentLease(run.lease, () => fn(run)) };
    } finally {
      await started.run.finish();
    }
  }
  return guard;
}

function guarded(lease: Lease): RunClaim {
  return {
    lease,
    signal: lease.signal,
    async finish() {
      await lease.release().catch(() => false);
    },
  };
}

function unguarded(): RunClaim {
  return { lease: undefined, signal: new AbortController().signal, finish: async () => {} };
}
