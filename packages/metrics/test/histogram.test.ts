import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CellHistogram, record } from '../src/histogram.js';
import { twoRegistries } from './scrape.js';

const config = {
  name: 'oncelock_test_duration_seconds',
  help: 'A test histogram.',
  labelNames: ['lock', 'outcome'],
  buckets: [0.001, 0.01, 0.1, 1],
};

/** prom-client's own Histogram and a CellHistogram, each on its own registry of one content type. */
function pair(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE) {
  const { ours, theirs } = twoRegistries(contentType);
  const cells = new CellHistogram({ ...config, registers: [ours] });
  const plain = new Histogram({ ...config, registers: [theirs] });
  const observe = (lock: string, outcome: string, value: number) => {
    record(cells.cell(lock, outcome), value);
    plain.observe({ lock, outcome }, value);
  };
  return { ours, theirs, observe };
}

// Below, on and between the bounds, past the top one, and zero.
const values = [0, 0.0004, 0.001, 0.0010001, 0.05, 0.1, 0.7, 1, 3, 250];

describe('CellHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations, as text and as JSON", async () => {
    for (const type of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
      const { ours, theirs, observe } = pair(type);
      values.forEach((v, i) => {
        observe('report', 'acquired', v);
        if (i % 3 === 0) observe('scan', 'busy', v / 7);
      });
      const text = await ours.metrics();
      expect(text).toBe(await theirs.metrics());
      expect(text).toContain(
        'oncelock_test_duration_seconds_bucket{le="+Inf",lock="report",outcome="acquired"} 10',
      );
      expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    }
  });

  it('shows no series for a label set never observed, and none after a reset, until observed again', async () => {
    const { ours, theirs, observe } = pair();
    const cells = ours.getSingleMetric(config.name) as CellHistogram<string>;
    cells.cell('idle', 'acquired');
    expect(await ours.metrics()).toBe(await theirs.metrics());
    observe('report', 'acquired', 0.02);
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain('report');
    observe('report', 'acquired', 0.5);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain(
      'oncelock_test_duration_seconds_sum{lock="report",outcome="acquired"} 0.5',
    );
  });
});
