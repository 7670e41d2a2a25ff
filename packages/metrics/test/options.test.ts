import { memoryBackend, rateLimit } from '@oncelock/core';
import { openTelemetryMetrics, prometheusMetrics } from '@oncelock/metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

const bad = (f: () => unknown, message: RegExp) => {
  let thrown: unknown;
  try {
    f();
  } catch (error) {
    thrown = error;
  }
  expect((thrown as { code?: string })?.code).toBe('ONCELOCK_INVALID_ARGUMENT');
  expect((thrown as Error).message).toMatch(message);
};

describe('the options of prometheusMetrics() and openTelemetryMetrics()', () => {
  it('refuses bad buckets, a misspelt histogram or option, and a registry or meter that is none, with typed errors', () => {
    const registry = new Registry();
    bad(
      () => prometheusMetrics({ registry, buckets: { rateDelay: [1, 0.5] } }),
      /rateDelay must be .*ascending/,
    );
    bad(() => prometheusMetrics({ registry, buckets: { loopPass: [] } }), /loopPass must be/);
    bad(() => prometheusMetrics({ registry, buckets: { hold: [0.1, Number.NaN] } }), /hold must be/);
    bad(
      () => prometheusMetrics({ registry, buckets: { ratedelay: [1] } as never }),
      /unknown option "ratedelay": did you mean "rateDelay"/,
    );
    bad(() => prometheusMetrics({ registry: {} as never }), /registry must be a prom-client Registry/);
    bad(() => prometheusMetrics({ registry, name: 'x' as never }), /name must be a function/);
    bad(() => openTelemetryMetrics(undefined as never), /needs an options object/);
    bad(() => openTelemetryMetrics({} as never), /meter is required/);
    bad(
      () => openTelemetryMetrics({ meter: memoryBackend() as never }),
      /meter must be an OpenTelemetry Meter/,
    );
    // Nothing was registered by the refused calls.
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it('uses the buckets given', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry, buckets: { rateDelay: [0, 2] } });
    try {
      await rateLimit(memoryBackend(), 'mail:1', { limit: 1, per: 1000 });
      expect(await registry.metrics()).toContain(
        'oncelock_rate_delay_seconds_bucket{le="2",lock="mail",backend="memory"} 1',
      );
    } finally {
      metrics.stop();
    }
  });
});
