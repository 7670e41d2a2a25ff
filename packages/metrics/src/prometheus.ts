import { readOptions } from '@oncelock/core/backend';
import { Gauge, type Metric, type Registry, register } from 'prom-client';
import { type Buckets, DEFAULT_BUCKETS } from './buckets.js';
import { type Figure, figures, instruments } from './catalogue.js';
import { CellCounter } from './counter.js';
import { CellHistogram, record } from './histogram.js';
import { defaultLockName, type LockName } from './lock-name.js';
import { at, prometheusSpec } from './options.js';
import { registerAll } from './register.js';
import { type Count, type Observe, type Sink, track } from './tracker.js';

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Default: prom-client's global `register`. */
  registry?: Registry;
  /** Maps a key to its `lock` label. Default: the key up to its first `:`. Never return the whole key of a per-item lock. */
  name?: LockName;
  /** Histogram buckets in seconds, by histogram: `acquire`, `hold`, `rateDelay`, `loopPass`. */
  buckets?: Buckets;
}

/** What {@link prometheusMetrics} returns. */
export interface PrometheusMetrics {
  /** Stops listening and removes the metrics from the registry. */
  stop(): void;
}

/**
 * Registers oncelock's metrics on a prom-client registry, fed by core's events:
 * `oncelock_acquire_duration_seconds{lock,backend,outcome}`, `oncelock_hold_duration_seconds{lock,backend}`,
 * `oncelock_leases_held{lock,backend}`, `oncelock_waiters{lock,backend}`,
 * `oncelock_leases_lost_total{lock,backend,reason}`, `oncelock_once_results_total{lock,mode,status}`;
 * for rate limits `oncelock_rate_decisions_total{lock,backend,outcome}` and `oncelock_rate_delay_seconds{lock,backend}`;
 * for loops `oncelock_loop_leading{lock,backend}`, `oncelock_loop_terms_total{lock,backend}`,
 * `oncelock_loop_passes_total{lock,backend,outcome}`, `oncelock_loop_pass_duration_seconds{lock,backend}`
 * and `oncelock_loop_lost_total{lock,backend}`. Throws `MetricsAlreadyRegisteredError` if the registry already has them.
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
  const o = readOptions(options, prometheusSpec, at('prometheusMetrics()'));
  const registry = o.registry ?? register;
  const none: Registry[] = [];
  const config = (figure: Figure) => ({
    name: figure.prometheus,
    help: figure.help,
    labelNames: figure.labels,
    registers: none,
  });
  const m = instruments({
    histogram: (key) =>
      new CellHistogram({ ...config(figures[key]), buckets: o.buckets?.[key] ?? DEFAULT_BUCKETS[key] }),
    counter: (key) => new CellCounter(config(figures[key])),
    // Gauges are levels the tracker keeps, read at each scrape.
    gauge: (key) =>
      new Gauge({
        ...config(figures[key]),
        collect() {
          for (const l of tracked.levels[key]) this.set({ lock: l.lock, backend: l.backend }, l.value);
        },
      }),
  });
  const metrics: Metric[] = Object.values(m);
  const unregister = registerAll(registry, metrics);

  // Each label set's cell is resolved once per lock, so an observation is a few additions.
  const observer = (h: CellHistogram<string>, ...labels: string[]): Observe => {
    const cell = h.cell(...labels);
    return (s) => record(cell, s);
  };
  const count = (c: CellCounter<string>, ...labels: string[]): Count => {
    const cell = c.cell(...labels);
    return () => {
      cell.value++;
    };
  };
  const sink: Sink = (lock, backend) => ({
    acquire: (outcome) => observer(m.acquire, lock, backend, outcome),
    hold: () => observer(m.hold, lock, backend),
    // Rarer, and their label sets open-ended: looked up per event.
    lost: (reason) => void m.lost.cell(lock, backend, reason).value++,
    once: (mode, status) => void m.once.cell(lock, mode, status).value++,
    rate: (outcome) => count(m.rateDecisions, lock, backend, outcome),
    rateDelay: () => observer(m.rateDelay, lock, backend),
    loopPass: (outcome) => count(m.loopPasses, lock, backend, outcome),
    loopPassTime: () => observer(m.loopPass, lock, backend),
    loopLost: () => count(m.loopLost, lock, backend),
    loopTerm: () => count(m.loopTerms, lock, backend),
  });
  const tracked = track(sink, o.name ?? defaultLockName);
  return {
    stop() {
      tracked.stop();
      unregister();
    },
  };
}
