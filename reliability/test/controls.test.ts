import { rmSync } from 'node:fs';
import { stopAllWorkers } from '@oncelock/testkit/faults';
import { afterAll, describe, expect, it } from 'vitest';
import { summary } from '../src/summary.js';
import { ciOptions, torture, verdict } from '../src/torture.js';

// Negative controls: the torture run against locks that are broken on purpose. A check that
// passed these could pass anything; here each must fire.

describe.sequential('torture checks catch broken locks', () => {
  afterAll(() => stopAllWorkers());

  it('a lock that excludes nothing: overlapping writes and lost updates are found', async () => {
    const report = await torture(ciOptions('control-no-lock'));
    console.log(summary(report));
    if (report.kept) rmSync(report.kept, { recursive: true, force: true });
    expect(report.findings.writes.accepted).toBeGreaterThan(0);
    expect(report.findings.writeOverlaps).toBeGreaterThan(0);
    expect(report.findings.lostUpdates).toBeGreaterThan(0);
  }, 240_000);

  it('a lock that hands every holder the same fence: regressions and lost updates fail the run', async () => {
    const report = await torture(ciOptions('control-one-fence'));
    console.log(summary(report));
    if (report.kept) rmSync(report.kept, { recursive: true, force: true });
    expect(report.findings.fenceRegressions).toBeGreaterThan(0);
    expect(report.findings.lostUpdates).toBeGreaterThan(0);
    expect(verdict(report).ok).toBe(false);
  }, 240_000);
});
