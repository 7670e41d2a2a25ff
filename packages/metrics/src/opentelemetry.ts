import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { defaultLockName, type LockName } from './lock-name.js';
import { type Level, track } from './tracker.js';

/** Options of {@link openTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions {
  /** From your MeterProvider: `metrics.getMeter('my-service')`. */
  meter: Meter;
  /** Maps a key to its `lock` attribute. Default: the key up to its first `:`. */
  name?: LockName;
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
 * @param options - The `meter` to record with (required) and the `lock` attribute's mapping
 *   from a key (default: the key up to its first `:`).
 */
export function openTelemetryMetrics(options: OpenTelemetryMetricsOptions): OpenTelemetryMetrics {
  const { meter } = options;
  const acquire = meter.createHistogram('oncelock.acquire.duration', {
    unit: 's',
    description: 'Time from an acquire call to its outcome: acquired, busy, timeout, aborted or error.',
  });
  const hold = meter.createHistogram('oncelock.hold.duration', {
    unit: 's',
    description: 'How long leases were held, until released, lost or detached.',
  });
  const lost = meter.createCounter('oncelock.leases.lost', {
    description: 'Leases lost before their owner released them, by reason: not-held, expired, closed.',
  });
  const once = meter.createCounter('oncelock.once.results', {
    description: 'How once-guard steps ended: claimed, started, busy, ran, cancelled, failed.',
  });
  const held = meter.createObservableGauge('oncelock.leases.held', {
    description: 'Leases held by this process.',
  });
  const waiters = meter.createObservableGauge('oncelock.waiters', {
    description: 'Callers in this process waiting for a held lock.',
  });
  const tracked = track(
    (lock, backend) => ({
      // Attributes built once per label set, not per observation.
      acquire(outcome) {
        const attributes = { lock, backend, outcome };
        return (s) => acquire.record(s, attributes);
      },
      hold() {
        const attributes = { lock, backend };
        return (s) => hold.record(s, attributes);
      },
      lost: (reason) => lost.add(1, { lock, backend, reason }),
      once: (mode, status) => once.add(1, { lock, mode, status }),
    }),
    options.name ?? defaultLockName,
  );
  const report = (levels: Set<Level>) => (result: ObservableResult<Attributes>) => {
    for (const l of levels) result.observe(l.value, { lock: l.lock, backend: l.backend });
  };
  const heldCallback = report(tracked.levels.held);
  const waitersCallback = report(tracked.levels.waiters);
  held.addCallback(heldCallback);
  waiters.addCallback(waitersCallback);
  return {
    stop() {
      tracked.stop();
      held.removeCallback(heldCallback);
      waiters.removeCallback(waitersCallback);
    },
  };
}
