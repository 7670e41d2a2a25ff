import { readFileSync } from 'node:fs';
import { prometheusMetrics } from '@oncelock/metrics';
import { queueMetrics } from '@oncelock/metrics/bullmq';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

const pages = {
  'the metrics README': new URL('../README.md', import.meta.url),
  'the Operations page': new URL('../../../docs/guide/operations.md', import.meta.url),
};

/** The metric, type and labels of each row of a page's metrics table. */
function rows(text: string): Map<string, { type: string; labels: string }> {
  const out = new Map<string, { type: string; labels: string }>();
  for (const [, name, type, labels] of text.matchAll(/^\| `(oncelock_[a-z_]+)` +\| (\w+) +\| (.*)\|$/gm))
    out.set(name as string, { type: type as string, labels: labels as string });
  return out;
}

describe('the metrics tables', () => {
  it.each(Object.entries(pages))(
    '%s lists every metric the package registers, with its type and labels',
    (_, file) => {
      const registry = new Registry();
      const stops = [prometheusMetrics({ registry }), queueMetrics({ registry, queues: [] })];
      try {
        const table = rows(readFileSync(file, 'utf8'));
        const metrics = registry.getMetricsAsArray() as unknown as Array<{
          name: string;
          type: string;
          labelNames: string[];
        }>;
        expect([...table.keys()].sort()).toEqual(metrics.map((m) => m.name).sort());
        for (const m of metrics) {
          const row = table.get(m.name);
          expect(row?.type, m.name).toBe(m.type);
          for (const label of m.labelNames) expect(row?.labels, m.name).toContain(`\`${label}\``);
        }
      } finally {
        for (const s of stops) s.stop();
      }
    },
  );
});
