import { now, sleep } from '../clock.js';
import type { LockBackend } from '../contract.js';
import { MAX_TTL } from '../contract.js';
import { withCurrentLease } from '../current.js';
import { BackendClosedError, InvalidArgumentError, WaitAbortedError } from '../errors.js';
import { type EventOf, emit, hasListeners, type OncelockEvent } from '../events.js';
import { type Lease, lease } from '../lease.js';
import { describe } from '../options/describe.js';
import { duration, func, signal, ttl } from '../options/kinds.js';
import { readOptions } from '../options/read.js';
import { checkBackend, checkKey } from '../validate.js';
import { topicOf, wakeSingleton } from './wake.js';

/** What one pass of a loop's body asks for next: `'more'` runs it again at once; `'idle'` or nothing sleeps. */
export type PassResult = 'more' | 'idle' | undefined;

/**
 * One pass of a loop's work: an async function (a promise only, so that TypeScript keeps
 * `'more'` a literal in the body's inferred type).
 *
 * @param ctx - The lease's signal and fence, and the lease.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a body that returns nothing is idle
export type LoopBody = (ctx: PassContext) => Promise<PassResult | void>;

/** What a loop's body gets on each pass. */
export interface PassContext {
  /** Fires when the lease is lost during the pass: stop there, the pass's result is dropped. */
  readonly signal: AbortSignal;
  /** The lease's fence: send it with the writes the loop makes. Throws on backends without fences. */
  readonly fence: number;
  /** The loop's lease, held while this process leads. */
  readonly lease: Lease;
}

/** Options of {@link singleton}. */
export interface SingletonOptions {
  /** Milliseconds the leader sleeps after an idle (or failed) pass, unless woken. Required. */
  interval: number;
  /**
   * TTL of the loop's lease, in milliseconds: the leader extends it in the background, and when
   * the leader dies or freezes, another process takes over within about this long. Required.
   */
  ttl: number;
  /** Stops the loop when it aborts, as `stop()` does. */
  signal?: AbortSignal;
  /**
   * Called with what a pass threw (or a store error while waiting to lead). Default: a process
   * warning (`OncelockLoopWarning`), so an error is never silent. Either way the loop goes on
   * after `interval`, and a `loop.pass` event with outcome `failed` carries the error.
   */
  onError?: (error: unknown) => void;
}

/** Where a loop stands in this process. */
export type LoopState = 'waiting' | 'leading' | 'stopped';

/** A running loop: this process's part of a fleet-wide singleton. */
export interface Singleton {
  /** The loop's name: the key of its lease and the topic of its wake-ups. */
  readonly name: string;
  /** `waiting` to lead, `leading` (holds the lease and runs the body), or `stopped`. */
  readonly state: LoopState;
  /** Passes of the body run in this process, over every term it led. */
  readonly passes: number;
  /** Resolves once the loop has stopped: by `stop()`, its signal, or its backend closing. Never rejects. */
  readonly stopped: Promise<void>;
  /**
   * Runs the body again as soon as the pass in progress ends: here if this process leads, else
   * through {@link wakeSingleton} (which a backend without `notify` refuses).
   */
  wake(): Promise<void>;
  /**
   * Stops the loop: lets the pass in progress finish (its signal does not fire), releases the
   * lease so another process takes over at once, and resolves. Idempotent. From inside the body,
   * call it without awaiting it: it waits for that very pass.
   */
  stop(): Promise<void>;
}

/** A loop's event. */
type LoopEvent = EventOf<Extract<OncelockEvent['type'], `loop.${string}`>>;

/** How a loop runs, once its options are read. */
export interface LoopSettings {
  interval: number;
  ttl: number;
  signal: AbortSignal | undefined;
  onError: ((error: unknown) => void) | undefined;
  /** Milliseconds to sleep between `'more'` passes (iterate's pause between chunks). */
  pause: number;
}

export const loopOptions = {
  interval: duration({ min: 1 }).required(),
  ttl: ttl().required(),
  signal: signal(),
  onError: func<(error: unknown) => void>(),
};

const at = { pkg: '@oncelock/core', call: 'singleton()' };

/**
 * Runs `body` in exactly one process of the fleet at a time: the one that holds the lease `name`
 * (extended in the background). Every other process that runs the same loop waits to take over:
 * at once when the leader stops and releases, within about `ttl` when it dies or freezes. The
 * leader runs `body` at once, again at once while it returns `'more'` (a backlog to drain), and
 * otherwise every `interval` or when woken ({@link wakeSingleton}, `wake()`).
 *
 * If the lease is lost during a pass (the process froze past the TTL, the store went away), the
 * body's `signal` fires, the pass's result is dropped and the loop waits to lead again. A body
 * that throws is reported (`onError`, a `loop.pass` event) and the loop goes on after `interval`.
 * Bad input throws `InvalidArgumentError` at once.
 *
 * @param backend - The store the fleet shares: `redisBackend(…)`, `postgresBackend(…)`.
 * @param name - The loop's name: the lease's key and the wake-ups' topic.
 * @param body - One pass of the work; it gets the lease's signal and fence.
 * @param options - `interval` and `ttl` in milliseconds (both required), and `signal`, `onError`.
 * @example
 * const loop = singleton(backend, 'pdf-pages', async ({ signal, fence }) => {
 *   const page = await nextPages(100, { signal, fence });
 *   return page.length === 100 ? 'more' : 'idle';
 * }, { interval: 30_000, ttl: 15_000 });
 * process.once('SIGTERM', () => void loop.stop());
 */
export function singleton(
  backend: LockBackend,
  name: string,
  body: LoopBody,
  options: SingletonOptions,
): Singleton {
  checkBackend(backend);
  checkKey(name, 'name');
  if (typeof body !== 'function')
    throw new InvalidArgumentError(`singleton(): body must be a function, got ${describe(body)}`);
  const o = readOptions(options, loopOptions, at, true);
  return new Loop(backend, name, body, { ...o, pause: 0 });
}

/** One loop in this process: waits to lead, leads for a term, and again, until stopped. */
export class Loop implements Singleton {
  readonly name: string;
  readonly stopped: Promise<void>;
  readonly #backend: LockBackend;
  readonly #body: (ctx: PassContext) => unknown;
  readonly #s: LoopSettings;
  readonly #stop = new AbortController();
  #state: LoopState = 'waiting';
  #passes = 0;
  /** A wake-up arrived since the current pass began: one more pass follows it. */
  #woken = false;
  /** The sleep in progress, and whether a wake-up may end it (a pause between chunks may not). */
  #sleeper: { wake(): void; wakeable: boolean } | undefined;
  /** How long the term that stop() ended had led, for the `loop.stopped` event. */
  #ledMs: number | undefined;

  constructor(
    backend: LockBackend,
    name: string,
    body: (ctx: PassContext) => unknown,
    settings: LoopSettings,
  ) {
    this.#backend = backend;
    this.name = name;
    this.#body = body;
    this.#s = settings;
    const stopNow = () => this.#stop.abort();
    if (settings.signal?.aborted) stopNow();
    else settings.signal?.addEventListener('abort', stopNow, { once: true });
    this.#stop.signal.addEventListener('abort', () => this.#sleeper?.wake(), { once: true });
    this.stopped = this.#run().finally(() => settings.signal?.removeEventListener('abort', stopNow));
  }

  get state(): LoopState {
    return this.#state;
  }

  get passes(): number {
    return this.#passes;
  }

  wake(): Promise<void> {
    if (this.#state !== 'leading') return wakeSingleton(this.#backend, this.name);
    this.#wakeHere();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.stopped;
  }

  get #stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  #wakeHere(): void {
    if (this.#state !== 'leading') return;
    this.#woken = true;
    if (this.#sleeper?.wakeable) this.#sleeper.wake();
  }

  /** Emits a loop event; `make` builds it (one literal, no spread: listeners read it faster) only if someone listens. */
  #emit(make: (backend: string, key: string) => LoopEvent): void {
    if (hasListeners()) emit(make(this.#backend.name, this.name));
  }

  #report(error: unknown): void {
    try {
      if (this.#s.onError) this.#s.onError(error);
      else process.emitWarning(`oncelock loop "${this.name}": ${String(error)}`, 'OncelockLoopWarning');
    } catch (thrown) {
      process.emitWarning(
        `oncelock loop "${this.name}" onError threw: ${String(thrown)}`,
        'OncelockLoopWarning',
      );
    }
  }

  /** Sleeps `ms`, ended early by stop(), by a lost lease (`lost`) and, if `wakeable`, by a wake-up. */
  async #sleep(ms: number, wakeable: boolean, lost?: AbortSignal): Promise<void> {
    if (this.#stopping || lost?.aborted) return;
    const s = sleep(ms);
    this.#sleeper = { wake: s.wake, wakeable };
    lost?.addEventListener('abort', s.wake, { once: true });
    await s.done;
    lost?.removeEventListener('abort', s.wake);
    this.#sleeper = undefined;
  }

  async #run(): Promise<void> {
    let cause: 'stopped' | 'closed' = 'stopped';
    try {
      while (!this.#stopping) {
        const held = await this.#lead();
        if (held) await this.#term(held);
      }
    } catch (error) {
      // Only a closed backend ends the loop by itself: nothing will ever be granted on it again.
      if (!(error instanceof BackendClosedError)) this.#report(error);
      cause = 'closed';
    } finally {
      this.#state = 'stopped';
      const wasLeading = this.#ledMs !== undefined;
      const heldMs = this.#ledMs ?? 0;
      this.#emit((backend, key) => ({ type: 'loop.stopped', backend, key, cause, wasLeading, heldMs }));
    }
  }

  /** Waits for the lease; `undefined` when stopped, or after an error (reported, then `interval`). */
  async #lead(): Promise<Lease | undefined> {
    this.#state = 'waiting';
    const begin = now();
    try {
      // Waiters sleep on the key's release notifications (and a fallback poll), so a release is
      // taken over at once and a dead leader's lease when its TTL runs out.
      const l = await lease(this.#backend, this.name, {
        ttl: this.#s.ttl,
        wait: MAX_TTL,
        signal: this.#stop.signal,
      });
      const fence = this.#backend.guarantees.fencing ? l.fence : undefined;
      const waitedMs = now() - begin;
      this.#emit((backend, key) => ({ type: 'loop.leading', backend, key, fence, waitedMs }));
      return l;
    } catch (error) {
      if (error instanceof WaitAbortedError) return undefined;
      if (error instanceof BackendClosedError) throw error;
      this.#report(error);
      await this.#sleep(this.#s.interval, false);
      return undefined;
    }
  }

  /** One term as leader: passes until stopped or the lease is lost; then lets go. */
  async #term(l: Lease): Promise<void> {
    this.#state = 'leading';
    const since = now();
    let passes = 0;
    const unlisten = await this.#listen();
    try {
      while (!this.#stopping && l.held) {
        this.#woken = false;
        const outcome = await this.#pass(l);
        passes++;
        if (outcome === 'lost' || this.#stopping) break;
        if (outcome === 'more') await this.#sleep(this.#s.pause, false, l.signal);
        else if (!this.#woken) await this.#sleep(this.#s.interval, true, l.signal);
      }
    } finally {
      unlisten();
    }
    if (!l.held) {
      const heldMs = now() - since;
      this.#emit((backend, key) => ({ type: 'loop.lost', backend, key, heldMs, passes }));
      return;
    }
    // Stopped while leading: hand the lease on at once rather than at its TTL.
    await l.release().catch((error: unknown) => this.#report(error));
    this.#ledMs = now() - since;
  }

  /** Listens for wake-ups while leading. Wake-ups are an optimisation: without them, `interval` still runs the loop. */
  async #listen(): Promise<() => void> {
    if (!this.#backend.listen) return () => {};
    try {
      const off = await this.#backend.listen(topicOf(this.name), () => this.#wakeHere());
      return () => {
        try {
          off();
        } catch {
          // A listener left behind only wakes a loop that no longer leads, which ignores it.
        }
      };
    } catch (error) {
      this.#report(error);
      return () => {};
    }
  }

  /** Runs the body once; a pass during which the lease was lost counts as lost, whatever it returned. */
  async #pass(l: Lease): Promise<'more' | 'idle' | 'failed' | 'lost'> {
    const begin = now();
    let outcome: 'more' | 'idle' | 'failed' | 'lost';
    let error: unknown;
    const ctx: PassContext = {
      signal: l.signal,
      get fence() {
        return l.fence;
      },
      lease: l,
    };
    try {
      const result = await withCurrentLease(l, () => this.#body(ctx));
      if (result !== 'more' && result !== 'idle' && result !== undefined)
        throw new InvalidArgumentError(
          `loop "${this.name}": a pass must resolve to 'more', 'idle' or nothing, got ${describe(result)}`,
        );
      outcome = result === 'more' ? 'more' : 'idle';
    } catch (thrown) {
      outcome = 'failed';
      error = thrown;
    }
    this.#passes++;
    if (!l.held) outcome = 'lost';
    const tookMs = now() - begin;
    this.#emit((backend, key) =>
      outcome === 'failed'
        ? { type: 'loop.pass', backend, key, outcome, tookMs, error }
        : { type: 'loop.pass', backend, key, outcome, tookMs },
    );
    if (outcome === 'failed') this.#report(error);
    return outcome;
  }
}
