import { InvalidArgumentError } from '@oncelock/core';
import { checkMs, PKG } from './loopback.js';

/**
 * One kind of fault. `run` makes it happen once and resolves when it is over (a freeze thawed,
 * a partition healed); it resolves `false` when there was nothing to do it to right now (every
 * worker busy or gone), which is not counted.
 */
export interface ChaosFault {
  /** Relative likelihood of being picked. Default 1. */
  weight?: number;
  run(): Promise<unknown>;
}

export interface ChaosOptions {
  faults: Record<string, ChaosFault>;
  /** The gap between one fault starting and the next, in `unit`s: drawn uniformly from `[min, max]`. */
  every: readonly [number, number];
  /**
   * `ms` (default): faults come at a rate in time. `steps`: at a rate in the caller's progress,
   * which it reports with `step()`, so that a fast system and a slow one see as many faults for
   * the same work; nothing is injected while no progress is reported.
   */
  unit?: 'ms' | 'steps';
  /** A source of numbers in [0, 1): pass `seededRandom(seed)` to replay a schedule. Default `Math.random`. */
  random?: () => number;
  /**
   * `random` (default): each fault by weight. `round-robin`: every fault in turn, weights ignored;
   * a fault that had nothing to do keeps its turn, so that a short run still sees each kind.
   */
  order?: 'random' | 'round-robin';
}

export interface ChaosSummary {
  /** Faults injected, by name. */
  injected: Record<string, number>;
  /** Faults whose `run` rejected: a broken fault, or a finding. */
  errors: Array<{ fault: string; error: unknown }>;
}

export interface Chaos {
  /** Faults injected so far, by name. */
  readonly injected: Readonly<Record<string, number>>;
  /**
   * With `unit: 'steps'`: `count` (default 1) more steps of progress were made; starts the faults
   * that have come due. Does nothing once stopped, so that work winding down may still report.
   */
  step(count?: number): void;
  /** Stops scheduling, waits for every fault still running to end, and sums up. Idempotent. */
  stop(): Promise<ChaosSummary>;
}

/**
 * Injects faults at random until stopped: every `every` ms (or steps) it picks one by weight and
 * starts it. Faults overlap in time (a long freeze does not hold back the next fault); each
 * decides for itself whether it has a target. Nothing thrown by a fault escapes: it is kept in
 * `errors`.
 */
export function startChaos(options: ChaosOptions): Chaos {
  const entries = Object.entries(options?.faults ?? {});
  if (entries.length === 0) throw new InvalidArgumentError('chaos needs at least one fault', { pkg: PKG });
  for (const [name, fault] of entries) {
    const weight = fault?.weight ?? 1;
    if (typeof fault?.run !== 'function' || !(weight >= 0) || !Number.isFinite(weight)) {
      throw new InvalidArgumentError(`fault ${name} needs a run() and a finite weight >= 0`, { pkg: PKG });
    }
  }
  const unit = options.unit ?? 'ms';
  if (unit !== 'ms' && unit !== 'steps') {
    throw new InvalidArgumentError(`unit must be 'ms' or 'steps', got ${String(unit)}`, { pkg: PKG });
  }
  const [min, max] = options.every ?? [];
  if (unit === 'ms') {
    checkMs(min, 'every[0]');
    checkMs(max, 'every[1]');
  } else if (!(typeof min === 'number' && min > 0 && Number.isFinite(min) && Number.isFinite(max))) {
    // A gap of 0 steps would make one step() start faults without end.
    throw new InvalidArgumentError(`every must be [min, max] steps, min > 0: ${String(options.every)}`, {
      pkg: PKG,
    });
  }
  if ((max as number) < (min as number))
    throw new InvalidArgumentError('every must be [min, max]', { pkg: PKG });
  const random = options.random ?? Math.random;
  const order = options.order ?? 'random';
  if (order !== 'random' && order !== 'round-robin') {
    throw new InvalidArgumentError(`order must be 'random' or 'round-robin', got ${String(order)}`, {
      pkg: PKG,
    });
  }
  let turn = 0;
  const total = entries.reduce((sum, [, f]) => sum + (f.weight ?? 1), 0);
  const injected: Record<string, number> = Object.fromEntries(entries.map(([name]) => [name, 0]));
  const errors: ChaosSummary['errors'] = [];
  const running = new Set<Promise<void>>();
  const gap = () => min! + random() * (max! - min!);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped: Promise<ChaosSummary> | undefined;
  // Steps still to come before the next fault. Drawn in `steps` only: in `ms`, a seed replays the
  // schedule it did before steps existed.
  let stepsLeft = unit === 'steps' ? gap() : 0;

  function pick(): [string, ChaosFault] {
    if (order === 'round-robin') return entries[turn++ % entries.length]!;
    let r = random() * total;
    for (const entry of entries) {
      r -= entry[1].weight ?? 1;
      if (r < 0) return entry;
    }
    return entries[entries.length - 1]!;
  }

  /** Starts one fault. Never throws, and its promise never rejects: errors are kept. */
  function inject(): void {
    const [name, fault] = pick();
    const done: Promise<void> = (async () => fault.run())().then(
      (did) => {
        if (did !== false) injected[name]!++;
        // Its turn comes again at the next fault: a short run still sees every kind.
        else if (order === 'round-robin') turn = entries.findIndex(([n]) => n === name);
      },
      (error: unknown) => {
        errors.push({ fault: name, error });
      },
    );
    running.add(done);
    void done.finally(() => running.delete(done));
  }

  function schedule(): void {
    timer = setTimeout(() => {
      inject();
      schedule();
    }, gap());
  }
  if (unit === 'ms') schedule();

  return {
    injected,
    step(count = 1) {
      if (unit !== 'steps') throw new InvalidArgumentError("step() needs unit: 'steps'", { pkg: PKG });
      if (!(typeof count === 'number' && count >= 0 && Number.isFinite(count))) {
        throw new InvalidArgumentError(`step count must be a finite number >= 0, got ${String(count)}`, {
          pkg: PKG,
        });
      }
      if (stopped) return;
      stepsLeft -= count;
      for (; stepsLeft <= 0; stepsLeft += gap()) inject();
    },
    stop() {
      stopped ??= (async () => {
        clearTimeout(timer);
        while (running.size > 0) await Promise.all([...running]);
        return { injected: { ...injected }, errors: [...errors] };
      })();
      return stopped;
    },
  };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new InvalidArgumentError('seed must be an integer', { pkg: PKG });
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
