import { readOptions } from '@oncelock/core/backend';
import type { Attributes, Counter, Histogram, Meter, ObservableResult } from '@opentelemetry/api';
import { type Buckets, DEFAULT_BUCKETS } from './buckets.js';
import { figures, instruments } from './catalogue.js';
import { defaultLockName, type LockName } from './lock-name.js';
import { at, openTelemetrySpec } from './options.js';
import { type Count, type Observe, track } from './tracker.js';

/** Options of {@link openTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions {
  /** From your MeterProvider: `metrics.getMeter('my-service')`. */
  meter: Meter;
  /** Maps a key to its `lock` attribute. Default: the key up to its first `:`. */
  name?: LockName;
  /**
   * Histogram buckets in seconds (advice to the SDK, which a View overrides), by histogram:
   * `acquire`, `hold`, `rateDelay`, `loopPass`.
   */
  buckets?: Buckets;
}

/** What {@link openTelemetryMetrics} returns. */
export interface OpenTelemetryMetrics {
  /** Stops listening and stops reporting the gauges. */
  stop(): void;
}

/**
 * Records oncelock's metrics with an OpenTelemetry meter, fed by core's events. The same figures
 * as `prometheusMetrics`, named the OpenTelemetry way (`oncelock.acquire.duration` in seconds, ...);
 * a Prometheus exporter turns them into the same `oncelock_*` names.
 *
 * @param options - The `meter` to record with (required), the `lock` attribute's mapping
 *   from a key (default: the key up to its first `:`) and the histogram buckets.
 */
export function openTelemetryMetrics(options: OpenTelemetryMetricsOptions): OpenTelemetryMetrics {
  const o = readOptions(options, openTelemetrySpec, at('openTelemetryMetrics()'), true);
  const { meter } = o;
  const description = (key: keyof typeof figures) => ({ description: figures[key].help });
  const m = instruments({
    // The SDK's default buckets are made for milliseconds; these are seconds, as Prometheus's.
    histogram: (key) =>
      meter.createHistogram(figures[key].openTelemetry, {
        ...description(key),
        unit: 's',
        advice: { explicitBucketBoundaries: [...(o.buckets?.[key] ?? DEFAULT_BUCKETS[key])] },
      }),
    counter: (key) => meter.createCounter(figures[key].openTelemetry, description(key)),
    gauge: (key) => meter.createObservableGauge(figures[key].openTelemetry, description(key)),
  });
  // Attributes built once per label set, not per observation.
  const recorder =
    (h: Histogram, attributes: Attributes): Observe =>
    (s) =>
      h.record(s, attributes);
  const adder =
    (c: Counter, attributes: Attributes): Count =>
    () =>
      c.add(1, attributes);
  const tracked = track(
    (lock, backend) => ({
      acquire: (outcome) => recorder(m.acquire, { lock, backend, outcome }),
      hold: () => recorder(m.hold, { lock, backend }),
      lost: (reason) => m.lost.add(1, { lock, backend, reason }),
      once: (mode, status) => m.once.add(1, { lock, mode, status }),
      rate: (outcome) => adder(m.rateDecisions, { lock, backend, outcome }),
      rateDelay: () => recorder(m.rateDelay, { lock, backend }),
      loopPass: (outcome) => adder(m.loopPasses, { lock, backend, outcome }),
      loopPassTime: () => recorder(m.loopPass, { lock, backend }),
      loopLost: () => adder(m.loopLost, { lock, backend }),
      loopTerm: () => adder(m.loopTerms, { lock, backend }),
    }),
    o.name ?? defaultLockName,
  );
  const gauges = (['held', 'waiters', 'loopLeading'] as const).map((key) => {
    const callback = (result: ObservableResult<Attributes>) => {
      for (const l of tracked.levels[key]) result.observe(l.value, { lock: l.lock, backend: l.backend });
    };
    m[key].addCallback(callback);
    return () => m[key].removeCallback(callback);
  });
  return {
    stop() {
      tracked.stop();
      for (const remove of gauges) remove();
    },
  };
}
