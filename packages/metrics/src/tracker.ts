import { type LostCause, type OncelockEvent, type OnceMode, type OnceStatus, onEvent } from '@oncelock/core';
import type { LockName } from './lock-name.js';

/** How an acquire call ended: the `outcome` label. */
export type AcquireOutcome = 'acquired' | 'busy' | 'timeout' | 'aborted' | 'error';

/** Records one duration, in seconds, into one label set. */
export type Observe = (seconds: number) => void;

/**
 * The figures of one lock on one backend. Histograms hand out an `Observe` per label set, resolved
 * once when the lock is first seen, so an event reaches its bucket with no label lookup.
 */
export interface Series {
  acquire(outcome: AcquireOutcome): Observe;
  hold(): Observe;
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
  readonly acquire: Readonly<Record<AcquireOutcome, Observe>>;
  readonly hold: Observe;
  readonly held: Level;
  readonly waiters: Level;
}

// Keys can be many (one per shard or job); the names they map to are few. Bounded, then reset.
const MAX_CACHED_KEYS = 10_000;

/**
 * Subscribes to core's events and turns them into `sink` calls and gauge levels. One event maps
 * to one outcome, so each acquire call is counted once. Everything a key needs is looked up once
 * and cached (its lock's label sets resolved to `Observe` functions), so an event costs one
 * comparison (the same key as the last event) or one map lookup, then a call: a lease's own cost
 * on a fast store is microseconds.
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
      const series = sink(lock, backend);
      entry = {
        backend,
        series,
        acquire: {
          acquired: series.acquire('acquired'),
          busy: series.acquire('busy'),
          timeout: series.acquire('timeout'),
          aborted: series.acquire('aborted'),
          error: series.acquire('error'),
        },
        hold: series.hold(),
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
  // Never below zero: a lease taken before metrics were attached may end after.
  const drop = (level: Level) => {
    if (level.value > 0) level.value--;
  };

  // The two events of every lease come first; the rest are rarer.
  const on = (e: OncelockEvent): void => {
    let entry = last;
    if (e.key !== lastKey || entry?.backend !== e.backend) {
      entry = lookup(e.key, e.backend);
      last = entry;
      lastKey = e.key;
    }
    switch (e.type) {
      case 'acquired':
        entry.acquire.acquired(e.waitedMs / 1000);
        if (e.held) entry.held.value++;
        return;
      case 'released':
      case 'detached':
        entry.hold(e.heldMs / 1000);
        drop(entry.held);
        return;
      case 'refused':
        if (!e.waits) entry.acquire.busy(e.tookMs / 1000);
        return;
      case 'waiting':
        entry.waiters.value++;
        return;
      case 'waited':
        drop(entry.waiters);
        // An acquired wait is counted by its `acquired` event, an error by `failed`.
        if (e.outcome === 'timeout' || e.outcome === 'aborted') entry.acquire[e.outcome](e.waitedMs / 1000);
        return;
      case 'failed':
        entry.acquire.error(e.tookMs / 1000);
        return;
      case 'lost':
        entry.series.lost(e.cause);
        entry.hold(e.heldMs / 1000);
        drop(entry.held);
        return;
      case 'once':
        entry.series.once(e.mode, e.status);
        return;
    }
  };
  return { levels, stop: onEvent('*', on) };
}
