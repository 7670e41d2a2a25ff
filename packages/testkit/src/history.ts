import { appendFileSync, readFileSync } from 'node:fs';
import { FencedResource, InvalidArgumentError, StaleFenceError } from '@oncelock/core';

// A history is what every contender did, as JSON lines appended to one file by many processes.
// The checker looks for what a lock must prevent: two holders writing at once, or a store
// accepting a fence older than one it already accepted.

const PKG = '@oncelock/testkit';

/** An interval in which `worker` believed it held `key`. */
export interface HoldEvent {
  type: 'hold';
  worker: string;
  key: string;
  fence: number | null;
  start: number;
  end: number;
}

/** A write to the resource `key` protects, from before the request to after the answer. */
export interface WriteEvent {
  type: 'write';
  worker: string;
  key: string;
  fence: number | null;
  start: number;
  end: number;
  /** The store applied it (false: it refused a stale fence). */
  accepted: boolean;
}

export type HistoryEvent = HoldEvent | WriteEvent;

/**
 * Milliseconds since the epoch with sub-millisecond precision, comparable between processes on
 * one machine. `performance.timeOrigin` alone is not: it was seen several milliseconds (once 18)
 * off the wall clock in freshly started processes on a loaded machine, enough to make a history
 * of correct writes look out of order. So the offset from `performance.now()` to the wall clock
 * is measured once per process at the edge of a `Date.now()` tick.
 */
export function historyNow(): number {
  wallOffset ??= measureWallOffset();
  return wallOffset + performance.now();
}

let wallOffset: number | undefined;

/**
 * Spins across a few `Date.now()` ticks (about a millisecond each) and keeps the edge bounded
 * most tightly. Each `Date.now()` call is bracketed by two `performance.now()` readings, so a
 * tick fell after the start of the last call that returned the old value and before the end of
 * the first call that returned the new one. The offset is taken at the middle of that span; a
 * spin preempted anywhere inside it widens the span and is outdone by a tighter edge.
 */
function measureWallOffset(): number {
  let best = { span: Number.POSITIVE_INFINITY, offset: performance.timeOrigin };
  for (let edges = 0; edges < 4 || (best.span > 0.05 && edges < 50); edges++) {
    let lastBefore = performance.now();
    const old = Date.now();
    for (;;) {
      const before = performance.now();
      const tick = Date.now();
      const after = performance.now();
      if (tick !== old) {
        const span = after - lastBefore;
        if (span < best.span) best = { span, offset: tick - (lastBefore + after) / 2 };
        break;
      }
      lastBefore = before;
    }
  }
  return best.offset;
}

export interface HistoryRecorder {
  readonly file: string;
  readonly worker: string;
  /** {@link historyNow}. */
  now(): number;
  /** Record a believed-held interval: from when the grant arrived to when release was sent (or loss seen). */
  hold(key: string, fence: number | null | undefined, start: number, end: number): void;
  /** Record a write: `start` before the request is sent, `end` after the answer arrived. */
  write(key: string, fence: number | null | undefined, start: number, end: number, accepted: boolean): void;
}

/**
 * Appends events for `worker` to `file`. Each event is one synchronous append of one line, so
 * lines from many processes do not interleave, and an event recorded before a SIGKILL is kept.
 */
export function historyRecorder(file: string, worker: string): HistoryRecorder {
  if (typeof file !== 'string' || file === '')
    throw new InvalidArgumentError('file must be a path', { pkg: PKG });
  if (typeof worker !== 'string' || worker === '') {
    throw new InvalidArgumentError('worker must be a non-empty string', { pkg: PKG });
  }
  const append = (event: HistoryEvent) => appendFileSync(file, `${JSON.stringify(checkEvent(event))}\n`);
  return {
    file,
    worker,
    now: historyNow,
    hold(key, fence, start, end) {
      append({ type: 'hold', worker, key, fence: fence ?? null, start, end });
    },
    write(key, fence, start, end, accepted) {
      append({ type: 'write', worker, key, fence: fence ?? null, start, end, accepted });
    },
  };
}

/** Reads a history file written by {@link historyRecorder}. A malformed line is an error. */
export function readHistory(file: string): HistoryEvent[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const events: HistoryEvent[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (cause) {
      throw new InvalidArgumentError(`${file}:${index + 1} is not JSON`, { pkg: PKG, cause });
    }
    events.push(checkEvent(parsed));
  });
  return events;
}

export interface CheckHistoryOptions {
  /** The backend promises fences: accepted fences per key must rise across holders. */
  fenced: boolean;
}

/** Two intervals on one key, from different workers, that share some time (`a` starts first). */
export interface Overlap<E extends HistoryEvent> {
  key: string;
  a: E;
  b: E;
}

export interface FenceRegression {
  key: string;
  /** An accepted write the later one should have outranked; absent for `missing`. */
  earlier?: WriteEvent;
  later: WriteEvent;
  /** `decreased`: a lower fence after a higher one; `repeated`: two holders, one fence; `missing`: no fence. */
  reason: 'decreased' | 'repeated' | 'missing';
}

export interface HistoryReport {
  /** No violation of what the backend promises (see {@link checkHistory}). */
  ok: boolean;
  /** Believed-held intervals that overlap. Expected when a holder is frozen past its TTL; never fails `ok`. */
  holdOverlaps: Overlap<HoldEvent>[];
  /** Accepted writes from different workers that overlap in time. */
  writeOverlaps: Overlap<WriteEvent>[];
  fenceRegressions: FenceRegression[];
  stats: { holds: number; writes: number; accepted: number; rejected: number; keys: number; workers: number };
}

/**
 * Checks a history.
 * - `fenced: false` (a lock alone protects the writes): `ok` means no two accepted writes on a
 *   key overlap in time.
 * - `fenced: true` (the store checks fences): `ok` means no fence regression. Every accepted
 *   write carries a fence; one that finished before another started has a fence no greater, and
 *   strictly smaller if it came from another worker; overlapping accepted writes of two workers
 *   have different fences. Overlapping writes are still listed: the store ordered them by fence.
 * Check `stats` too: an empty history passes.
 */
export function checkHistory(events: readonly HistoryEvent[], options: CheckHistoryOptions): HistoryReport {
  if (!Array.isArray(events)) throw new InvalidArgumentError('events must be an array', { pkg: PKG });
  if (typeof options?.fenced !== 'boolean')
    throw new InvalidArgumentError('options.fenced must be a boolean', { pkg: PKG });
  for (const event of events) checkEvent(event);

  const holdOverlaps: Overlap<HoldEvent>[] = [];
  const writeOverlaps: Overlap<WriteEvent>[] = [];
  const fenceRegressions: FenceRegression[] = [];
  for (const [key, keyed] of groupByKey(events)) {
    holdOverlaps.push(
      ...overlaps(
        key,
        keyed.filter((e): e is HoldEvent => e.type === 'hold'),
      ),
    );
    const accepted = keyed.filter((e): e is WriteEvent => e.type === 'write' && e.accepted);
    const writesOverlapping = overlaps(key, accepted);
    writeOverlaps.push(...writesOverlapping);
    for (const later of accepted)
      if (later.fence === null) fenceRegressions.push({ key, later, reason: 'missing' });
    fenceRegressions.push(
      ...regressions(
        key,
        accepted.filter((w) => w.fence !== null),
      ),
    );
    for (const { a, b } of writesOverlapping) {
      if (a.fence !== null && a.fence === b.fence)
        fenceRegressions.push({ key, earlier: a, later: b, reason: 'repeated' });
    }
  }

  const writes = events.filter((e): e is WriteEvent => e.type === 'write');
  const accepted = writes.filter((w) => w.accepted).length;
  return {
    ok: options.fenced ? fenceRegressions.length === 0 : writeOverlaps.length === 0,
    holdOverlaps,
    writeOverlaps,
    fenceRegressions: options.fenced
      ? fenceRegressions
      : fenceRegressions.filter((r) => r.reason !== 'missing'),
    stats: {
      holds: events.length - writes.length,
      writes: writes.length,
      accepted,
      rejected: writes.length - accepted,
      keys: new Set(events.map((e) => e.key)).size,
      workers: new Set(events.map((e) => e.worker)).size,
    },
  };
}

function groupByKey(events: readonly HistoryEvent[]): Map<string, HistoryEvent[]> {
  const byKey = new Map<string, HistoryEvent[]>();
  for (const event of events) {
    const list = byKey.get(event.key);
    if (list) list.push(event);
    else byKey.set(event.key, [event]);
  }
  return byKey;
}

/** Pairs of intervals from different workers that share time; touching ends do not count. */
function overlaps<E extends HistoryEvent>(key: string, events: readonly E[]): Overlap<E>[] {
  const found: Overlap<E>[] = [];
  let active: E[] = [];
  for (const b of [...events].sort((x, y) => x.start - y.start)) {
    active = active.filter((a) => a.end > b.start);
    // a.start <= b.start here; a.start < b.end rules out a zero-length b at the very start of a.
    for (const a of active) if (a.worker !== b.worker && a.start < b.end) found.push({ key, a, b });
    active.push(b);
  }
  return found;
}

/**
 * For each accepted write, the highest fence among writes that ended before it started must not
 * exceed its own, nor equal it when it came from another worker. One sweep: sorted by start,
 * with the writes sorted by end folded in as their ends pass.
 */
function regressions(key: string, writes: readonly WriteEvent[]): FenceRegression[] {
  const found: FenceRegression[] = [];
  const byEnd = [...writes].sort((x, y) => x.end - y.end);
  let folded = 0;
  let top: number | undefined;
  let topByWorker = new Map<string, WriteEvent>(); // writes that carried `top`, one per worker
  for (const later of [...writes].sort((x, y) => x.start - y.start)) {
    for (; folded < byEnd.length && byEnd[folded]!.end <= later.start; folded++) {
      const done = byEnd[folded]!;
      const fence = done.fence!;
      if (top === undefined || fence > top) {
        top = fence;
        topByWorker = new Map([[done.worker, done]]);
      } else if (fence === top && !topByWorker.has(done.worker)) topByWorker.set(done.worker, done);
    }
    if (top === undefined) continue;
    const fence = later.fence!;
    if (fence < top) {
      found.push({ key, earlier: topByWorker.values().next().value!, later, reason: 'decreased' });
    } else if (fence === top) {
      const other = [...topByWorker.values()].find((w) => w.worker !== later.worker);
      if (other) found.push({ key, earlier: other, later, reason: 'repeated' });
    }
  }
  return found;
}

function checkEvent(value: unknown): HistoryEvent {
  const e = value as { [K in keyof WriteEvent]?: unknown };
  const fail = (why: string) => {
    throw new InvalidArgumentError(`bad history event ${JSON.stringify(value)}: ${why}`, { pkg: PKG });
  };
  if (!e || typeof e !== 'object') fail('not an object');
  if (e.type !== 'hold' && e.type !== 'write') fail('type must be "hold" or "write"');
  if (typeof e.key !== 'string' || e.key === '') fail('key must be a non-empty string');
  if (typeof e.worker !== 'string' || e.worker === '') fail('worker must be a non-empty string');
  if (e.fence !== null && !Number.isSafeInteger(e.fence)) fail('fence must be an integer or null');
  if (!Number.isFinite(e.start) || !Number.isFinite(e.end) || (e.end as number) < (e.start as number))
    fail('start and end must be times, start <= end');
  if (e.type === 'write' && typeof e.accepted !== 'boolean') fail('accepted must be a boolean');
  return value as HistoryEvent;
}

/**
 * An in-memory store that applies a write only if its fence is at least the latest it has seen
 * for that key: the pattern a real store implements with a conditional update.
 */
export class FencedStore<T = unknown> {
  readonly #resources = new Map<string, FencedResource<T>>();

  /** Applies `value` and returns `true`, or refuses a stale fence and returns `false`. */
  write(key: string, fence: number, value: T): boolean {
    let resource = this.#resources.get(key);
    if (!resource) {
      resource = new FencedResource<T>(key);
      this.#resources.set(key, resource);
    }
    try {
      resource.write(fence, value);
      return true;
    } catch (error) {
      if (error instanceof StaleFenceError) return false;
      throw error;
    }
  }

  get(key: string): T | undefined {
    return this.#resources.get(key)?.value;
  }

  latest(key: string): number | undefined {
    return this.#resources.get(key)?.latest;
  }
}
export * from './windows.js';
