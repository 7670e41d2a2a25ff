import { Counter, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CellCounter } from '../src/counter.js';
import { twoRegistries } from './scrape.js';

const config = {
  name: 'oncelock_test_events_total',
  help: 'A test counter.',
  labelNames: ['lock', 'outcome'],
};

/** prom-client's own Counter and a CellCounter, each on its own registry of one content type. */
function pair(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE) {
  const { ours, theirs } = twoRegistries(contentType);
  const cells = new CellCounter({ ...config, registers: [ours] });
  const plain = new Counter({ ...config, registers: [theirs] });
  /** A label set made known at 0 (a cell made, an `inc` by 0), as the tracker does for every outcome. */
  const known = (lock: string, outcome: string) => {
    const cell = cells.cell(lock, outcome);
    plain.inc({ lock, outcome }, 0);
    return () => {
      cell.value++;
      plain.inc({ lock, outcome });
    };
  };
  return { ours, theirs, cells, known };
}

describe('CellCounter', () => {
  it("exposes exactly what prom-client's Counter exposes for the same counts, zeros included, as text and as JSON", async () => {
    for (const type of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
      const { ours, theirs, known } = pair(type);
      const allowed = known('mail', 'allowed');
      known('mail', 'refused');
      const reserved = known('sms', 'reserved');
      for (let i = 0; i < 5; i++) allowed();
      reserved();
      const text = await ours.metrics();
      expect(text).toBe(await theirs.metrics());
      expect(text).toContain('lock="mail",outcome="refused"} 0');
      expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    }
  });

  it('keeps its cells through a reset, at 0, and counts on from there', async () => {
    const { ours, cells, known } = pair();
    const allowed = known('mail', 'allowed');
    allowed();
    ours.resetMetrics();
    expect(await ours.metrics()).toContain('oncelock_test_events_total{lock="mail",outcome="allowed"} 0');
    allowed();
    expect(cells.cell('mail', 'allowed').value).toBe(1);
    expect(await ours.metrics()).toContain('oncelock_test_events_total{lock="mail",outcome="allowed"} 1');
  });
});
