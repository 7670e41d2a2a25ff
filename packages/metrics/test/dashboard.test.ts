import { readFileSync } from 'node:fs';
import { prometheusMetrics } from '@oncelock/metrics';
import { queueMetrics } from '@oncelock/metrics/bullmq';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

const file = new URL('../../../docs/public/oncelock-grafana-dashboard.json', import.meta.url);

describe('the Grafana dashboard in the docs', () => {
  it('parses, and every metric its PromQL names is one the package registers', () => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const registry = new Registry();
    const stops = [prometheusMetrics({ registry }), queueMetrics({ registry, queues: [] })];
    try {
      const known = new Set(registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name));
      const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
      expect(exprs.length).toBeGreaterThanOrEqual(14);
      const named = new Set(exprs.flatMap((e) => e.match(/\boncelock_[a-z_]+/g) ?? []));
      // A histogram's series are its name plus _bucket, _sum or _count.
      const base = (n: string) => (known.has(n) ? n : n.replace(/_(bucket|sum|count)$/, ''));
      for (const n of named) expect([...known], n).toContain(base(n));
      // The panels the issue asks for.
      const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
      for (const t of [
        'locks held',
        'waiters',
        'acquire latency',
        'lost leases',
        'queue length',
        'queue latency',
        'rate decisions',
        'loop leaders',
        'loop passes',
      ])
        expect(titles).toContain(t);
    } finally {
      for (const s of stops) s.stop();
    }
  });
});
