import { Counter, Gauge, type Metric, type Registry, register } from 'prom-client';
import { CellHistogram, record } from './histogram.js';
import { defaultLockName, type LockName } from './lock-name.js';
import { registerAll } from './register.js';
import { type Level, type Sink, track } from './tracker.js';

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Default: prom-client's global `register`. */
  registry?: Registry;
  /** Maps a key to its `lock` label. Default: the key up to its first `:`. Never return the whole key of a per-item lock. */
  name?: LockName;
  /** Histogram buckets in seconds. */
  buckets?: {
    /** Upper bounds of `oncelock_acquire_duration_seconds`, in seconds. Default `ACQUIRE_BUCKETS`. */
    acquire?: number[];
    /** Upper bounds of `oncelock_hold_duration_seconds`, in seconds. Default `HOLD_BUCKETS`. */
    hold?: number[];
  };
}

/** What {@link prometheusMetrics} returns. */
export interface PrometheusMetrics {
  /** Stops listening and removes the metrics from the registry. */
  stop(): void;
}

/** Acquire: from half a millisecond (an in-process lock) to a long wait. */
export const ACQUIRE_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Hold: from a quick job to an hour-long backfill. */
export const HOLD_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Registers oncelock's metrics on a prom-client registry, fed by core's events:
 * `oncelock_acquire_duration_seconds{lock,backend,outcome}`, `oncelock_hold_duration_seconds{lock,backend}`,
 * `oncelock_leases_held{lock,backend}`, `oncelock_waiters{lock,backend}`,
 * `oncelock_leases_lost_total{lock,backend,reason}`, `oncelock_once_results_total{lock,mode,status}`.
 * Throws `MetricsAlreadyRegisteredError` if the registry already has them.
 *
 * @example
 * const metrics = prometheusMetrics({ registry });
 * // ... serve `await registry.metrics()` on /metrics ...
 * metrics.stop();
 *
 * @param options - The registry (default: prom-client's global `register`), the `lock` label's
 *   mapping from a key and the histogram buckets. Optional.
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? register;
  const none: Registry[] = [];
  const acquire = new CellHistogram({
    name: 'oncelock_acquire_duration_seconds',
    help: 'Time from an acquire call to its outcome: acquired, busy (held, no wait), timeout, aborted or error.',
    labelNames: ['lock', 'backend', 'outcome'],
    buckets: options.buckets?.acquire ?? ACQUIRE_BUCKETS,
    registers: none,
  });
  const hold = new CellHistogram({
    name: 'oncelock_hold_duration_seconds',
    help: 'How long leases were held, until released, lost or detached.',
    labelNames: ['lock', 'backend'],
    buckets: options.buckets?.hold ?? HOLD_BUCKETS,
    registers: none,
  });
  const lost = new Counter({
    name: 'oncelock_leases_lost_total',
    help: 'Leases lost before their owner released them, by reason: not-held, expired, closed.',
    labelNames: ['lock', 'backend', 'reason'],
    registers: none,
  });
  const once = new Counter({
    name: 'oncelock_once_results_total',
    help: 'How once-guard steps ended: claimed, started, busy, ran, cancelled, failed.',
    labelNames: ['lock', 'mode', 'status'],
    registers: none,
  });
  const gauge = (name: string, help: string, levels: () => Set<Level>) =>
    new Gauge({
      name,
      help,
      labelNames: ['lock', 'backend'],
      registers: none,
      collect() {
        for (const l of levels()) this.set({ lock: l.lock, backend: l.backend }, l.value);
      },
    });
  const held = gauge('oncelock_leases_held', 'Leases held by this process.', () => tracked.levels.held);
  const waiters = gauge(
    'oncelock_waiters',
    'Callers in this process waiting for a held lock.',
    () => tracked.levels.waiters,
  );

  const metrics: Metric[] = [acquire, hold, held, waiters, lost, once];
  const unregister = registerAll(registry, metrics);

  // Each label set's cell is resolved once per lock, so an observation is a few additions.
  const sink: Sink = (lock, backend) => ({
    acquire(outcome) {
      const cell = acquire.cell(lock, backend, outcome);
      return (s) => record(cell, s);
    },
    hold() {
      const cell = hold.cell(lock, backend);
      return (s) => record(cell, s);
    },
    lost: (reason) => lost.inc({ lock, backend, reason }),
    once: (mode, status) => once.inc({ lock, mode, status }),
  });
  const tracked = track(sink, options.name ?? defaultLockName);
  return {
    stop() {
      tracked.stop();
      unregister();
    },
  };
}
