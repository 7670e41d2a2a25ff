// The rate accuracy run at CI size: 8 processes ask for one key at three times its rate; the
// store's starts, stamped on its clock, never exceed limit + burst in any sliding window of
// `per`, and keep at least 95% of the rate; a limiter in each process lets far more through.
// Then the same run while processes are SIGKILLed and their connections cut: still no window
// over. ONCELOCK_SOAK=1 runs the soak size (10 s).
import { stopAllWorkers } from '@oncelock/testkit/faults';
import { afterAll, describe, expect, it } from 'vitest';
import { rateRun } from '../src/rate/run.js';
import { rateLabs, rateOptions } from '../src/rate/sizes.js';

const size = process.env.ONCELOCK_SOAK === '1' ? 'soak' : 'ci';

describe.sequential('rate limits: accuracy across processes', () => {
  afterAll(() => stopAllWorkers());

  for (const lab of rateLabs) {
    it(`${lab}: 8 processes at 3x the rate, no window over, at least 95% of the rate`, async () => {
      const options = rateOptions(lab, size, false);
      const r = await rateRun(options);
      console.log(JSON.stringify({ ...r, options: undefined }));
      const most = options.limit + options.burst;
      expect(r.crashes).toBe(0);
      expect(r.fleet.violations).toBe(0);
      expect(r.fleet.worst).toBeLessThanOrEqual(most);
      expect(r.fleet.achieved).toBeGreaterThanOrEqual(0.95);
      expect(r.errors).toBe(0);
      // What a limiter in each worker gives: each lets its own `limit` through, so the fleet
      // gets all it asks for, three times the rate.
      expect(r.perWorker.worst).toBeGreaterThan(2 * most);
    }, 120_000);

    it(`${lab}: the same with processes SIGKILLed and connections cut at random: no window over`, async () => {
      const options = rateOptions(lab, size, true, 7);
      const r = await rateRun(options);
      console.log(JSON.stringify({ ...r, options: undefined }));
      expect(r.crashes).toBe(0);
      expect(r.faults.kill).toBeGreaterThan(0);
      expect(r.faults.cut).toBeGreaterThan(0);
      expect(r.fleet.violations).toBe(0);
      expect(r.fleet.worst).toBeLessThanOrEqual(options.limit + options.burst);
    }, 120_000);
  }
});
