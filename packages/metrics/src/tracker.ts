import { type LostCause, type OncelockEvent, type OnceMode, type OnceStatus, onEvent } from '@oncelock/core';
import type { LockName } from './lock-name.js';

/** How an acquire call ended: the `outcome` label. */
export type AcquireOutcome = 'acquired' | 'busy' | 'timeout' | 'aborted' | 'error';

/** Where the figures go: a Prometheus registry or an OpenTelemetry meter. Durations in seconds. */
export interface Sink {
  acquire(lock: string, backend: string, outcome: AcquireOutcome, seconds: number): void;
  hold(lock: string, backend: string, seconds: number): void;
  lost(lock: string, backend: string, reason: LostCause): void;
  once(lock: string, mode: OnceMode, status: OnceStatus): void;
}

/** Per lock and backend, read on collection. */
export interface Levels {
  readonly held: Map<string, Level>;
  readonly waiters: Map<string, Level>;
}

export interface Level {
  readonly lock: string;
  readonly backend: string;
  value: number;
}

// Keys can be many (one per shard or job); the names they map to are few. Bounded, then reset.
const MAX_CACHED_KEYS = 10_000;

/**
 * Subscribes to core's events and turns them into `sink` calls and gauge levels. One event maps
 * to one outcome, so each acquire call is counted once. Returns the levels and a stop function.
 */
export function track(sink: Sink, name: LockName): { levels: Levels; stop: () => void } {
  const names = new Map<string, string>();
  const lockOf = (key: string): string => {
    let lock = names.get(key);
    if (lock === undefined) {
      if (names.size >= MAX_CACHED_KEYS) names.clear();
      lock = name(key);
      names.set(key, lock);
    }
    return lock;
  };
  const levels: Levels = { held: new Map(), waiters: new Map() };
  const move = (map: Map<string, Level>, lock: string, backend: string, by: number) => {
    const id = `${lock}\u0000${backend}`;
    let level = map.get(id);
    if (!level) {
      level = { lock, backend, value: 0 };
      map.set(id, level);
    }
    // Never below zero: a lease taken before metrics were attached may end after.
    level.value = Math.max(0, level.value + by);
  };

  const on = (e: OncelockEvent): void => {
    const lock = lockOf(e.key);
    switch (e.type) {
      case 'acquired':
        sink.acquire(lock, e.backend, 'acquired', e.waitedMs / 1000);
        if (e.held) move(levels.held, lock, e.backend, 1);
        return;
      case 'refused':
        if (!e.waits) sink.acquire(lock, e.backend, 'busy', e.tookMs / 1000);
        return;
      case 'waiting':
        move(levels.waiters, lock, e.backend, 1);
        return;
      case 'waited':
        move(levels.waiters, lock, e.backend, -1);
        // An acquired wait is counted by its `acquired` event, an error by `failed`.
        if (e.outcome === 'timeout' || e.outcome === 'aborted')
          sink.acquire(lock, e.backend, e.outcome, e.waitedMs / 1000);
        return;
      case 'failed':
        sink.acquire(lock, e.backend, 'error', e.tookMs / 1000);
        return;
      case 'lost':
        sink.lost(lock, e.backend, e.cause);
        sink.hold(lock, e.backend, e.heldMs / 1000);
        move(levels.held, lock, e.backend, -1);
        return;
      case 'released':
      case 'detached':
        sink.hold(lock, e.backend, e.heldMs / 1000);
        move(levels.held, lock, e.backend, -1);
        return;
      case 'once':
        sink.once(lock, e.mode, e.status);
        return;
    }
  };
  return { levels, stop: onEvent('*', on) };
}
