import type { Holder } from './contract.js';

interface Base {
  /** The backend's name. */
  readonly backend: string;
  readonly key: string;
}

/** Everything core reports. Durations are monotonic milliseconds. */
export type OncelockEvent =
  | (Base & {
      readonly type: 'acquired';
      readonly fence: number | undefined;
      readonly waitedMs: number;
      readonly tookMs: number;
    })
  | (Base & { readonly type: 'refused'; readonly holder: Holder | undefined; readonly tookMs: number })
  | (Base & {
      readonly type: 'waited';
      readonly outcome: 'acquired' | 'timeout' | 'aborted';
      readonly waitedMs: number;
    })
  | (Base & { readonly type: 'extended'; readonly tookMs: number })
  | (Base & { readonly type: 'lost'; readonly reason: string; readonly heldMs: number })
  | (Base & { readonly type: 'released'; readonly heldMs: number; readonly wasHeld: boolean })
  | (Base & { readonly type: 'skipped'; readonly mode: string; readonly holder: Holder | undefined });

/** The names of the events: `acquired`, `refused`, `waited`, `extended`, `lost`, `released`, `skipped`. */
export type OncelockEventType = OncelockEvent['type'];
/** The event object of one type, for typed listeners. */
export type EventOf<T extends OncelockEventType> = Extract<OncelockEvent, { type: T }>;
type Listener = (event: OncelockEvent) => void;

const listeners = new Set<{ type: OncelockEventType | '*'; fn: Listener }>();

/**
 * Listens to core's events, of one type or all (`'*'`). Returns a function that stops listening.
 * Listeners run synchronously; one that throws is reported as a process warning and never
 * disturbs the lock operation that emitted the event.
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
  return listeners.size > 0;
}

export function emit(event: OncelockEvent): void {
  for (const { type, fn } of listeners) {
    if (type !== '*' && type !== event.type) continue;
    try {
      fn(event);
    } catch (error) {
      process.emitWarning(`oncelock event listener threw: ${String(error)}`, 'OncelockListenerWarning');
    }
  }
}
