import {
  count,
  func,
  INVALID,
  invalid,
  Kind,
  type Option,
  object,
  oneOf,
  readOptions,
} from '@oncelock/core/backend';
import { millis, PKG } from './loopback.js';

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

const at = { pkg: PKG, call: 'startChaos()' };
const stepAt = { pkg: PKG, call: 'chaos.step()' };

/** A fault: something with a `run()` and a finite weight >= 0. */
const fault = new Kind<ChaosFault>('an object with a run() function and a finite weight >= 0', (v) => {
  const f = v as ChaosFault | null;
  const weight = f?.weight ?? 1;
  return typeof f?.run === 'function' && Number.isFinite(weight) && weight >= 0 ? f : INVALID;
});

const chaosOptions = {
  faults: {
    expects: 'an object of faults by name',
    read(value, name, where) {
      const faults = object<Record<string, unknown>>('an object of faults by name')
        .required()
        .read(value, name, where);
      for (const [key, f] of Object.entries(faults)) fault.required().read(f, `${name}.${key}`, where);
      return faults as Record<string, ChaosFault>;
    },
  } as Option<Record<string, ChaosFault>>,
  every: new Kind<readonly [number, number]>('[min, max]: two numbers, 0 <= min <= max', (v) =>
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((n) => millis.read(n, '', at) !== undefined && n >= 0) &&
    v[0] <= v[1]
      ? (v as [number, number])
      : INVALID,
  ).required(),
  unit: oneOf(['ms', 'steps']).default('ms'),
  random: func<() => number>('a function returning numbers in [0, 1)').default(Math.random),
  order: oneOf(['random', 'round-robin']).default('random'),
};

/**
 * Injects faults at random until stopped: every `every` ms (or steps) it picks one by weight and
 * starts it. Faults overlap in time (a long freeze does not hold back the next fault); each
 * decides for itself whether it has a target. Nothing thrown by a fault escapes: it is kept in
 * `errors`.
 */
export function startChaos(options: ChaosOptions): Chaos {
  const o = readOptions(options, chaosOptions, at, true);
  const entries = Object.entries(o.faults);
  if (entries.length === 0) throw invalid(at, 'faults needs at least one fault');
  const { unit, random, order } = o;
  const [min, max] = o.every;
  // A gap of 0 steps would make one step() start faults without end.
  if (unit === 'steps' && min === 0) throw invalid(at, 'every must be [min, max] steps with min > 0');
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
      if (unit !== 'steps') throw invalid(stepAt, "step() needs unit: 'steps'");
      millis.required().read(count, 'count', stepAt);
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
  count({ min: Number.MIN_SAFE_INTEGER }).required().read(seed, 'seed', { pkg: PKG, call: 'seededRandom()' });
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
