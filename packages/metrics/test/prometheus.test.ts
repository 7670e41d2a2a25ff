import { lease, memoryBackend, once, tryLease, WaitTimeoutError } from '@oncelock/core';
import { MetricsAlreadyRegisteredError, prometheusMetrics } from '@oncelock/metrics';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { scraped } from './scrape.js';

let stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

function setup() {
  const s = scraped();
  stops.push(s.stop);
  return s;
}

describe('prometheusMetrics', () => {
  it('counts acquire outcomes, hold time, held leases, waiters and lost leases by lock name', async () => {
    const { registry, value } = setup();
    const b = memoryBackend();
    const a = await lease(b, 'report:1', { ttl: 5000 });
    expect(await value('oncelock_leases_held', { lock: 'report', backend: 'memory' })).toBe(1);
    expect(await tryLease(b, 'report:1', { ttl: 5000 })).toBeNull(); // busy
    const waiter = lease(b, 'report:1', { ttl: 5000, wait: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await value('oncelock_waiters', { lock: 'report' })).toBe(1);
    await a.release();
    const w = await waiter;
    expect(await value('oncelock_waiters', { lock: 'report' })).toBe(0);
    await expect(lease(b, 'report:1', { ttl: 5000, wait: 30 })).rejects.toThrow(WaitTimeoutError);
    await w.release();
    // A lease without auto-extension runs out locally: lost, cause "expired".
    const short = await lease(b, 'report:2', { ttl: 60, autoExtend: false });
    await new Promise((r) => setTimeout(r, 150));
    expect(short.held).toBe(false);

    const count = (outcome: string) =>
      value('oncelock_acquire_duration_seconds', { lock: 'report', outcome }, '_count');
    expect(await count('acquired')).toBe(3);
    expect(await count('busy')).toBe(1);
    expect(await count('timeout')).toBe(1);
    expect(await value('oncelock_hold_duration_seconds', { lock: 'report' }, '_count')).toBe(3);
    expect(await value('oncelock_leases_lost_total', { lock: 'report', reason: 'expired' })).toBe(1);
    expect(await value('oncelock_leases_held', { lock: 'report' })).toBe(0);
    // The full key never becomes a label.
    expect(await registry.metrics()).not.toContain('report:1');
  });

  it('counts once results by mode and status', async () => {
    const { value } = setup();
    const b = memoryBackend();
    const guard = once(b, { key: 'scan:all', mode: 'whileRunning' });
    let inner: unknown;
    await guard.run(async () => {
      inner = await guard.run(async () => 1);
    });
    await expect(guard.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(inner).toMatchObject({ status: 'cancelled' });
    const results = (status: string) =>
      value('oncelock_once_results_total', { lock: 'scan', mode: 'whileRunning', status });
    expect(await results('ran')).toBe(1);
    expect(await results('cancelled')).toBe(1);
    expect(await results('failed')).toBe(1);
  });

  it('refuses a second registration on one registry with a typed error, and stop() frees the names', () => {
    const registry = new Registry();
    const first = prometheusMetrics({ registry });
    expect(() => prometheusMetrics({ registry })).toThrow(MetricsAlreadyRegisteredError);
    try {
      prometheusMetrics({ registry });
    } catch (error) {
      expect((error as MetricsAlreadyRegisteredError).code).toBe('ONCELOCK_INVALID_ARGUMENT');
      expect((error as Error).message).toMatch(/^\[@oncelock\/metrics\] .*oncelock_acquire_duration_seconds/);
    }
    first.stop();
    expect(registry.getMetricsAsArray()).toEqual([]);
    prometheusMetrics({ registry }).stop();
  });

  it('stop() stops listening: later leases change nothing', async () => {
    const { registry, metrics } = setup();
    // Kept before stop() unregisters it: a listener still attached would count into it.
    const acquire = registry.getSingleMetric('oncelock_acquire_duration_seconds')!;
    const count = async () =>
      (await acquire.get()).values
        .filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))
        .reduce((n, v) => n + v.value, 0);
    const b = memoryBackend();
    await (await lease(b, 'quiet', { ttl: 1000 })).release();
    expect(await count()).toBe(1);
    metrics.stop();
    stops = [];
    await (await lease(b, 'quiet', { ttl: 1000 })).release();
    expect(await registry.metrics()).toBe('\n');
    expect(await count()).toBe(1);
  });

  it('maps keys with a custom name()', async () => {
    const registry = new Registry();
    const m = prometheusMetrics({ registry, name: (key) => key.split('/')[0] ?? key });
    stops.push(() => m.stop());
    await (await lease(memoryBackend(), 'tenant/42', { ttl: 1000 })).release();
    expect(await registry.metrics()).toContain('lock="tenant"');
  });
});
