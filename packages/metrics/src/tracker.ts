import { type LostCause, type OncelockEvent, type OnceMode, type OnceStatus, onEvent } from '@oncelock/core';
import type { LockName } from './lock-name.js';

/** How an acquire call ended: the `outcome` label. */
export type AcquireOutcome = 'acquired' | 'busy' | 'timeout' | 'aborted' | 'error';

/** The figures of one lock on one backend. Durations in seconds. */
export interface Series {
  acquire(outcome: AcquireOutcome, seconds: number): void;
  hold(seconds: number): void;
  lost(reason: LostCause): void;
  once(mode: OnceMode, status: OnceStatus): void;
}

/** Where the figures go: a Prometheus registry or an OpenTelemetry meter. */
export type Sink = (lock: string, backend: string) => Series;

/** A gauge's value for one lock on one backend, read on collection. */
export interface Level {
  readonly lock: string;
  readonly backend: string;
  value: number;
}

/** Per lock and backend, read on collection. */
export interface Levels {
  readonly held: Set<Level>;
  readonly waiters: Set<Level>;
}

interface Entry {
  readonly backend: string;
  readonly series: Series;
  readonly held: Level;
  readonly waiters: Level;
}

// Keys can be many (one per shard or job); the names they map to are few. Bounded, then reset.
const MAX_CACHED_KEYS = 10_000;

/**
 * Subscribes to core's events and turns them into `sink` calls and gauge levels. One event maps
 * to one outcome, so each acquire call is counted once. Everything a key needs is looked up once
 * and cached, so an event costs one comparison (the same key as the last event) or one map lookup:
 * a lease's own cost on a fast store is microseconds.
 */
export function track(sink: Sink, name: LockName): { levels: Levels; stop: () => void } {
  const levels: Levels = { held: new Set(), waiters: new Set() };
  const byLock = new Map<string, Entry>();
  const byKey = new Map<string, Entry>();
  const lookup = (key: string, backend: string): Entry => {
    const cached = byKey.get(key);
    if (cached !== undefined && cached.backend === backend) return cached;
    const lock = name(key);
    const id = `${lock}\u0000${backend}`;
    let entry = byLock.get(id);
    if (!entry) {
      entry = {
        backend,
        series: sink(lock, backend),
        held: { lock, backend, value: 0 },
        waiters: { lock, backend, value: 0 },
      };
      byLock.set(id, entry);
      levels.held.add(entry.held);
      levels.waiters.add(entry.waiters);
    }
    if (byKey.size >= MAX_CACHED_KEYS) byKey.clear();
    byKey.set(key, entry);
    return entry;
  };
  // The last key's entry first: a lease's events (acquired, then released) come one after the other.
  let lastKey: string | undefined;
  let last: Entry | undefined;
  const entryOf = (key: string, backend: string): Entry => {
    if (key !== lastKey || last?.backend !== backend) {
      last = lookup(key, backend);
      lastKey = key;
    }
    return last;
  };
  // Never below zero: a lease taken before metrics were attached may end after.
  const move = (level: Level, by: number) => {
    level.value = Math.max(0, level.value + by);
  };

  const on = (e: OncelockEvent): void => {
    const entry = entryOf(e.key, e.backend);
    const s = entry.series;
    switch (e.type) {
      case 'acquired':
        s.acquire('acquired', e.waitedMs / 1000);
        if (e.held) move(entry.held, 1);
        return;
      case 'refused':
        if (!e.waits) s.acquire('busy', e.tookMs / 1000);
        return;
      case 'waiting':
        move(entry.waiters, 1);
        return;
      case 'waited':
        move(entry.waiters, -1);
        // An acquired wait is counted by its `acquired` event, an error by `failed`.
        if (e.outcome === 'timeout' || e.outcome === 'aborted') s.acquire(e.outcome, e.waitedMs / 1000);
        return;
      case 'failed':
        s.acquire('error', e.tookMs / 1000);
        return;
      case 'lost':
        s.lost(e.cause);
        s.hold(e.heldMs / 1000);
        move(entry.held, -1);
        return;
      case 'released':
      case 'detached':
        s.hold(e.heldMs / 1000);
        move(entry.held, -1);
        return;
      case 'once':
        s.once(e.mode, e.status);
        return;
    }
  };
  return { levels, stop: onEvent('*', on) };
}
