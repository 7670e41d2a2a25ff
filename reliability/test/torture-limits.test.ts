import { stopAllWorkers } from '@oncelock/testkit/faults';
import { afterAll, describe, expect, it } from 'vitest';
import { summary } from '../src/summary.js';
import { ciLimitOptions, limitLabs, soakLimitOptions, torture, verdict } from '../src/torture.js';

/** ONCELOCK_SOAK=1 runs the soak size instead of the CI size. */
const soak = process.env.ONCELOCK_SOAK === '1';

/**
 * Permits under faults: 8 processes share one key with limit 3 while they are killed, frozen past
 * their TTL and cut off at random. Besides the torture's own checks (no crash, no hang, no stuck
 * key, fences), never more than 3 holders may have an accepted write at once, and a killed
 * holder's permit must be free again within its TTL plus 1 s.
 */
describe.sequential('permits under faults', () => {
  afterAll(() => stopAllWorkers());

  for (const lab of limitLabs) {
    const options = soak ? soakLimitOptions(lab) : ciLimitOptions(lab);
    it(
      `${lab}: ${options.workers} processes, limit ${options.limit}, faults at random`,
      async () => {
        const report = await torture(options);
        console.log(summary(report));
        expect(verdict(report).problems).toEqual([]);
        expect(report.tally.sections).toBeGreaterThanOrEqual(options.workers * options.sections);
        const p = report.permits;
        expect(p?.over).toEqual([]);
        expect(p?.most).toBeLessThanOrEqual(options.limit ?? 1);
        for (const ms of p?.freedAfterKill ?? []) expect(ms).toBeLessThanOrEqual(options.ttl + 1000);
        const f = report.faults;
        expect((f.freeze ?? 0) + (f.kill ?? 0), 'process faults').toBeGreaterThan(0);
        expect((f.partition ?? 0) + (f.reset ?? 0), 'connection faults').toBeGreaterThan(0);
      },
      options.limitMs + 60_000,
    );
  }
});
