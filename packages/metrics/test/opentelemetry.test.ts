import { lease, memoryBackend, rateLimit, singleton, tryLease } from '@oncelock/core';
import { openTelemetryMetrics, RATE_DELAY_BUCKETS } from '@oncelock/metrics';
import { eventually } from '@oncelock/testkit';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';

/** A meter of the real SDK, read on demand. */
function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async () => (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  return { meter: provider.getMeter('test'), collect, shutdown: () => provider.shutdown() };
}

describe('openTelemetryMetrics', () => {
  it('records acquire outcomes, hold time and the held gauge through the real SDK', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = openTelemetryMetrics({ meter: provider.getMeter('test') });
    try {
      const b = memoryBackend();
      const held = await lease(b, 'otel:1', { ttl: 5000 });
      expect(await tryLease(b, 'otel:1', { ttl: 5000 })).toBeNull();
      const { resourceMetrics } = await reader.collect();
      const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
      const find = (name: string) => all.find((m) => m.descriptor.name === name);
      const gauge = find('oncelock.leases.held');
      expect(gauge?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
        [{ lock: 'otel', backend: 'memory' }, 1],
      ]);
      const acquire = find('oncelock.acquire.duration');
      expect(acquire?.descriptor.unit).toBe('s');
      const counts = Object.fromEntries(
        (acquire?.dataPoints ?? []).map((p) => [p.attributes.outcome, (p.value as { count: number }).count]),
      );
      expect(counts).toEqual({ acquired: 1, busy: 1 });
      await held.release();
      const after = (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
      const hold = after.find((m) => m.descriptor.name === 'oncelock.hold.duration');
      expect((hold?.dataPoints[0]?.value as { count: number } | undefined)?.count).toBe(1);
    } finally {
      metrics.stop();
      await provider.shutdown();
    }
  });

  it('records rate decisions, the rate delay, and a loop leader, its terms and passes', async () => {
    const { meter, collect, shutdown } = sdk();
    const metrics = openTelemetryMetrics({ meter });
    const b = memoryBackend();
    try {
      const rate = { limit: 1, per: 60_000 };
      await rateLimit(b, 'mail:1', rate);
      await rateLimit(b, 'mail:1', rate);
      const loop = singleton(b, 'sweep:1', async () => 'idle', { interval: 60_000, ttl: 5_000 });
      expect(await eventually(() => loop.passes === 1)).toBe(true);
      let all = await collect();
      const points = (name: string) => all.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
      const byOutcome = Object.fromEntries(
        points('oncelock.rate.decisions').map((p) => [p.attributes.outcome, p.value]),
      );
      expect(byOutcome).toEqual({ allowed: 1, refused: 1 });
      const delay = all.find((m) => m.descriptor.name === 'oncelock.rate.delay');
      expect(delay?.descriptor.unit).toBe('s');
      // Seconds, so the buckets are ours and not the SDK's millisecond ones.
      expect(
        (delay?.dataPoints[0]?.value as { buckets: { boundaries: number[] } } | undefined)?.buckets
          .boundaries,
      ).toEqual(RATE_DELAY_BUCKETS);
      const leading = points('oncelock.loop.leading');
      expect(leading.map((p) => [p.attributes, p.value])).toEqual([
        [{ lock: 'sweep', backend: 'memory' }, 1],
      ]);
      expect(points('oncelock.loop.terms')[0]?.value).toBe(1);
      expect(points('oncelock.loop.passes').map((p) => [p.attributes.outcome, p.value])).toEqual([
        ['idle', 1],
      ]);
      expect((points('oncelock.loop.pass.duration')[0]?.value as { count: number } | undefined)?.count).toBe(
        1,
      );
      await loop.stop();
      all = await collect();
      expect(points('oncelock.loop.leading')[0]?.value).toBe(0);
    } finally {
      metrics.stop();
      await b.close();
      await shutdown();
    }
  });
});
