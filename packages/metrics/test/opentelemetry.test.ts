import { lease, memoryBackend, tryLease } from '@oncelock/core';
import { openTelemetryMetrics } from '@oncelock/metrics';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';

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
});
