import {
  type LoopOutcome,
  type LostCause,
  type OncelockEvent,
  type OnceMode,
  type OnceStatus,
  onEvent,
} from '@oncelock/core';
import type { LockName } from './lock-name.js';

/** How an acquire call ended: the `outcome` label. */
export type AcquireOutcome = 'acquired' | 'busy' | 'timeout' | 'aborted' | 'error';

/** Records one duration, in seconds, into one label set. */
export type Observe = (seconds: number) => void;

/** Counts one event into one label set. */
export type Count = () => void;

/**
 * How a rate decision ended: the `outcome` label. `allowed` a start now, `reserved` a start
 * after a wait for the slot the store set aside, `refused` no start.
 */
export type RateOutcome = 'allowed' | 'reserved' | 'refused';

/**
 * The figures of one lock on one backend. Histograms hand out an `Observe` per label set, resolved
 * once when the lock is first seen, so an event reaches its bucket with no label lookup.
 */
export interface Series {
  acquire(outcome: AcquireOutcome): Observe;
  hold(): Observe;
  lost(reason: LostCause): void;
  once(mode: OnceMode, status: OnceStatus): void;
  rate(outcome: RateOutcome): Count;
  rateDelay(): Observe;
  loopPass(outcome: LoopOutcome): Count;
  loopPassTime(): Observe;
  loopLost(): Count;
  loopTerm(): Count;
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
  /** Only the locks a loop has run under: a lock without loops shows no `leading` series. */
  readonly loopLeading: Set<Level>;
}

/** A lock's rate figures, resolved at its first rate decision. */
interface RateFigures {
  readonly decided: Readonly<Record<RateOutcome, Count>>;
  readonly delay: Observe;
}

/** A lock's loop figures, resolved at its loop's first event. */
interface LoopFigures {
  readonly leading: Level;
  readonly passes: Readonly<Record<LoopOutcome, Count>>;
  readonly pass: Observe;
  readonly lost: Count;
  readonly term: Count;
}

interface Entry {
  readonly lock: string;
  readonly backend: string;
  readonly series: Series;
  readonly acquire: Readonly<Record<AcquireOutcome, Observe>>;
  readonly hold: Observe;
  readonly held: Level;
  readonly waiters: Level;
  // Made on first use, so a lock that only leases shows no rate or loop series.
  rate: RateFigures | undefined;
  loop: LoopFigures | undefined;
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
  const levels: Levels = { held: new Set(), waiters: new Set(), loopLeading: new Set() };
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
        lock,
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
        // Present from the start, so every entry keeps one shape for the lease path's reads.
        rate: undefined,
        loop: undefined,
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

  const rateOf = (entry: Entry): RateFigures => {
    const { series } = entry;
    entry.rate ??= {
      decided: {
        allowed: series.rate('allowed'),
        reserved: series.rate('reserved'),
        refused: series.rate('refused'),
      },
      delay: series.rateDelay(),
    };
    return entry.rate;
  };
  const loopOf = (entry: Entry): LoopFigures => {
    if (entry.loop) return entry.loop;
    const { series } = entry;
    const leading = { lock: entry.lock, backend: entry.backend, value: 0 };
    levels.loopLeading.add(leading);
    entry.loop = {
      leading,
      passes: {
        more: series.loopPass('more'),
        idle: series.loopPass('idle'),
        failed: series.loopPass('failed'),
        lost: series.loopPass('lost'),
      },
      pass: series.loopPassTime(),
      lost: series.loopLost(),
      term: series.loopTerm(),
    };
    return entry.loop;
  };

  // The two events of every lease come first; the rest are rarer, and rate and loop events rarer
  // still (a switch on a string tests the cases in order, so a lease pays nothing for them).
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
      case 'rate': {
        const rate = rateOf(entry);
        if (!e.allowed) {
          rate.decided.refused();
          return;
        }
        (e.delay > 0 ? rate.decided.reserved : rate.decided.allowed)();
        // Every granted start, 0 for one at once: the quantiles are those of the wait for a slot.
        rate.delay(e.delay / 1000);
        return;
      }
      case 'loop.leading': {
        const loop = loopOf(entry);
        loop.leading.value++;
        loop.term();
        return;
      }
      case 'loop.pass': {
        const loop = loopOf(entry);
        loop.passes[e.outcome]();
        loop.pass(e.tookMs / 1000);
        return;
      }
      case 'loop.lost': {
        const loop = loopOf(entry);
        loop.lost();
        drop(loop.leading);
        return;
      }
      case 'loop.stopped': {
        // A loop that stopped while leading handed its lease on: its term ends here.
        const loop = loopOf(entry);
        if (e.wasLeading) drop(loop.leading);
        return;
      }
    }
  };
  return { levels, stop: onEvent('*', on) };
}
