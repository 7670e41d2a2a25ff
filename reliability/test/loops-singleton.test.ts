import { stopAllWorkers } from '@oncelock/testkit/faults';
import { afterAll, describe, expect, it } from 'vitest';
import { loopLabKinds } from '../src/loops/lab.js';
import {
  ciSingletonOptions,
  singletonSummary,
  singletonTorture,
  singletonVerdict,
  soakSingletonOptions,
} from '../src/loops/singleton-torture.js';

/** ONCELOCK_SOAK=1 runs the soak size (60 s) instead of the CI size (15 s). */
const soak = process.env.ONCELOCK_SOAK === '1';

/**
 * One singleton in 4 processes while its leader is SIGKILLed, SIGSTOPped past its TTL and has
 * its connections dropped by the server, in rotation, and the parent wakes it every few hundred
 * ms. Never two bodies' writes accepted at once (the store's order of writes, the history's
 * fences), every applied write accounted for, each kill and stop taken over within TTL + 1 s,
 * and no wake-up lost while a leader lived.
 */
describe.sequential('singleton under faults', () => {
  afterAll(() => stopAllWorkers());

  for (const lab of loopLabKinds) {
    const options = soak ? soakSingletonOptions(lab) : ciSingletonOptions(lab);
    it(
      `${lab}: ${options.processes} processes, ${options.durationMs / 1000} s of faults and wake-ups`,
      async () => {
        const report = await singletonTorture(options);
        console.log(singletonSummary(report));
        expect(singletonVerdict(report).problems).toEqual([]);
        expect(report.interleaved).toEqual([]);
        // Faults did land: every kill and stop was followed by another process's pass.
        expect(report.takeover.n).toBeGreaterThanOrEqual(report.faults.kill + report.faults.stop);
        expect(report.findings.writes.accepted).toBeGreaterThan(0);
        expect(report.wakes.live).toBeGreaterThan(0);
      },
      options.durationMs + 120_000,
    );
  }
});
