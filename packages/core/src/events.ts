import diagnostics from 'node:diagnostics_channel';
import type { Holder } from './contract.js';
import type { OnceMode } from './once.js';

interface Base {
  /** The backend's name. */
  readonly backend: string;
  readonly key: string;
}

/**
 * Why a lease was lost, from a small fixed set (a metric label): `not-held` the store no longer
 * holds it for this owner (it expired there or was taken over); `expired` its local validity ran
 * out before an extension succeeded (store unreachable or slow, process paused, or no
 * auto-extension); `closed` its backend was closed.
 */
export type LostCause = 'not-held' | 'expired' | 'closed';

/**
 * How one step of a once-guard ended: `claimed` (enqueue), `started` or `busy` (start), `ran`
 * (run), `cancelled` (a duplicate was skipped, at any step), `failed` (the step or the work threw).
 */
export type OnceStatus = 'claimed' | 'started' | 'busy' | 'ran' | 'cancelled' | 'failed';

/**
 * How one pass of a loop's body ended: `more` (it asked to run again at once), `idle` (it
 * sleeps until its interval or a wake-up), `failed` (the body threw), `lost` (the lease ended
 * during the pass, so its result was dropped).
 */
export type LoopOutcome = 'more' | 'idle' | 'failed' | 'lost';

/** Everything core reports. Durations are monotonic milliseconds. */
export type OncelockEvent =
  | (Base & {
      readonly type: 'acquired';
      readonly fence: number | undefined;
      /** From the call to the grant: the whole acquire, waits included. */
      readonly waitedMs: number;
      readonly tookMs: number;
      /**
       * True for a lease this process now holds (a `released`, `lost` or `detached` event ends it);
       * false for a claim made at enqueue time, which nobody here holds while the job is queued.
       */
      readonly held: boolean;
    })
  | (Base & {
      readonly type: 'refused';
      readonly holder: Holder | undefined;
      readonly tookMs: number;
      /** The caller waits (`wait` > 0): this refusal is one of its tries, and `waited` tells how the wait ended. */
      readonly waits: boolean;
    })
  /** A caller found the key held (or the store failing) and starts to wait; one `waited` follows. */
  | (Base & { readonly type: 'waiting' })
  | (Base & {
      readonly type: 'waited';
      readonly outcome: 'acquired' | 'timeout' | 'aborted' | 'error';
      readonly waitedMs: number;
    })
  /** An acquire call ended with an error other than an aborted wait (a store error, mostly). */
  | (Base & { readonly type: 'failed'; readonly code: string; readonly tookMs: number })
  | (Base & { readonly type: 'extended'; readonly tookMs: number })
  | (Base & {
      readonly type: 'lost';
      /** The words of the `LockLostError`. */
      readonly reason: string;
      readonly cause: LostCause;
      readonly heldMs: number;
    })
  | (Base & { readonly type: 'released'; readonly heldMs: number; readonly wasHeld: boolean })
  /** The lease was handed back with `detach()`: no longer held here, left in the store until its TTL. */
  | (Base & { readonly type: 'detached'; readonly heldMs: number })
  | (Base & { readonly type: 'skipped'; readonly mode: string; readonly holder: Holder | undefined })
  /**
   * An operator freed a key from a holder of another process (`forceRelease`, the CLI's
   * `oncelock release --force`): `owner` and `fence` are the holder's, `released` false when it
   * had already gone (expired, released, or the key changed hands), so nothing was removed.
   */
  | (Base & {
      readonly type: 'forced';
      readonly owner: string;
      readonly fence: number | undefined;
      readonly released: boolean;
    })
  /**
   * One rate decision (`rateLimit`, `rateLimited`): granted, with the milliseconds the caller
   * waits for its reserved slot (0: now), or refused, with when a start would be granted.
   * `tookMs` is the decision's round trip, without the wait.
   */
  | (Base & { readonly type: 'rate'; readonly tookMs: number } & (
        | { readonly allowed: true; readonly delay: number }
        | { readonly allowed: false; readonly retryAfter: number }
      ))
  | (Base & {
      readonly type: 'once';
      readonly mode: OnceMode;
      readonly step: 'enqueue' | 'start' | 'run';
      readonly status: OnceStatus;
    })
  /** This process leads the loop `key` (`singleton`, `iterate`): it holds the loop's lease. */
  | (Base & { readonly type: 'loop.leading'; readonly fence: number | undefined; readonly waitedMs: number })
  /** One pass of a loop's body ended; a `failed` one carries what the body threw. */
  | (Base & {
      readonly type: 'loop.pass';
      readonly outcome: LoopOutcome;
      readonly tookMs: number;
      readonly error?: unknown;
    })
  /** The leader's lease ended under it (frozen past its TTL, store unreachable): it waits to lead again. */
  | (Base & { readonly type: 'loop.lost'; readonly heldMs: number; readonly passes: number })
  /**
   * The loop stopped in this process: `stop()` or its signal (`stopped`), or its backend was
   * closed (`closed`). `heldMs` is how long it had led, 0 if it was waiting.
   */
  | (Base & {
      readonly type: 'loop.stopped';
      readonly cause: 'stopped' | 'closed';
      readonly wasLeading: boolean;
      readonly heldMs: number;
    });

/**
 * The events' names: `acquired`, `refused`, `waiting`, `waited`, `failed`, `extended`, `lost`,
 * `released`, `detached`, `skipped`, `forced`, `rate`, `once`, and for loops `loop.leading`, `loop.pass`,
 * `loop.lost`, `loop.stopped`.
 */
export type OncelockEventType = OncelockEvent['type'];
/**
 * The event object of one type, for typed listeners.
 *
 * @typeParam T - The event's `type`.
 */
export type EventOf<T extends OncelockEventType> = Extract<OncelockEvent, { type: T }>;
type Listener = (event: OncelockEvent) => void;

/**
 * The `node:diagnostics_channel` channel every event is published on, so an APM agent can
 * subscribe without depending on oncelock: `diagnostics_channel.subscribe('oncelock:event', fn)`.
 */
export const EVENT_CHANNEL = 'oncelock:event';
const channel = diagnostics.channel(EVENT_CHANNEL);
const listeners = new Set<{ type: OncelockEventType | '*'; fn: Listener }>();

/**
 * Listens to core's events, of one type or all (`'*'`). Returns a function that stops listening.
 * Listeners run synchronously; one that throws is reported as a process warning and never
 * disturbs the lock operation that emitted the event.
 *
 * @typeParam T - The event type listened to, or `'*'`; it types the listener's event.
 * @param type - One event type (`acquired`, `lost`, …), or `'*'` for every event.
 * @param listener - Called synchronously with each event of that type; keep it quick.
 */
export function onEvent<T extends OncelockEventType | '*'>(
  type: T,
  listener: (event: T extends OncelockEventType ? EventOf<T> : OncelockEvent) => void,
): () => void {
  const entry = { type, fn: listener as Listener };
  listeners.add(entry);
  return () => {
    listeners.delete(entry);
  };
}

/** True when someone listens, so hot paths can skip building events nobody reads. */
export function hasListeners(): boolean {
  return listeners.size > 0 || channel.hasSubscribers;
}

export function emit(event: OncelockEvent): void {
  for (const { type, fn } of listeners) {
    if (type !== '*' && type !== event.type) continue;
    try {
      fn(event);
    } catch (error) {
      warn(error);
    }
  }
  // publish() never throws here: Node reports a subscriber that throws on the next tick.
  if (channel.hasSubscribers) channel.publish(event);
}

function warn(error: unknown): void {
  process.emitWarning(`oncelock event listener threw: ${String(error)}`, 'OncelockListenerWarning');
}
