import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAllWorkers } from '@oncelock/testkit/faults';
import { afterAll, expect, it } from 'vitest';
import type { RunResult } from '../src/analyse.js';
import { runLab } from '../src/lab.js';
import { ciRuns, parseOptions } from '../src/options.js';
import type { BackendKind } from '../src/protocol.js';

/**
 * Registers the CI runs of `backends` (see `ciRuns`) as one test each, with the lab's own
 * assertions: a fencing backend never accepts a stale write out of order, and every run
 * actually exercised its fault.
 */
export function ciRunsOf(backends: BackendKind[]): void {
  const out = mkdtempSync(join(tmpdir(), 'lock-expiry-lab-'));
  afterAll(async () => {
    await stopAllWorkers();
    rmSync(out, { recursive: true, force: true });
  });
  for (const [backend, scenario] of ciRuns.filter(([b]) => backends.includes(b))) {
    it(`${backend} ${scenario}`, async () => {
      const o = parseOptions(['--ci', '--backends', backend, '--scenarios', scenario, '--out', out], out);
      const [r] = await runLab(o, ciRuns);
      expect(r).toBeDefined();
      expectOutcome(r!);
      expect(readFileSync(join(out, `${backend}-${scenario}.svg`), 'utf8')).toContain('<svg');
    });
  }
}

function expectOutcome(r: RunResult): void {
  const context = JSON.stringify(r);
  // Something happened: several tenures, writes that went through, another worker took over.
  expect(r.tenures, context).toBeGreaterThanOrEqual(2);
  expect(r.accepted, context).toBeGreaterThan(0);
  expect(r.takeoverMs, context).not.toBeNull();
  if (r.fenced) {
    expect(r.fenceRegressions, context).toBe(0);
    expect(r.clean, context).toBe(true);
  }
  if (r.scenario === 'freeze') {
    // The frozen holder wrote after it woke, on a check made before the pause...
    expect(r.staleWrites, context).toBeGreaterThanOrEqual(1);
    // ...which a fencing store refuses once the new holder has written, and any other store takes.
    if (r.fenced) expect(r.staleRejected, context).toBeGreaterThanOrEqual(1);
    else expect(r.staleAccepted, context).toBeGreaterThanOrEqual(1);
  }
  if (r.scenario === 'kill') {
    // A killed holder writes nothing more, so nothing it sent can be stale.
    expect(r.staleWrites, context).toBe(0);
    // Postgres ends the dead session's lock at once, but no notification says so: a waiter
    // notices at its next poll, which the holder's remaining TTL caps. So at most about the TTL.
    if (r.backend === 'postgres') expect(r.takeoverMs!, context).toBeLessThan(r.ttl * 1.5);
  }
}
