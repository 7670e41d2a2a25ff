import { stopAllWorkers } from '@oncelock/testkit/faults';
import { pgbouncerBinary } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabKind } from '../src/labs/index.js';
import { summary } from '../src/summary.js';
import { ciOptions, soakOptions, torture, verdict } from '../src/torture.js';

/** ONCELOCK_SOAK=1 runs the full 8 x 2,000 instead of the CI size (or use `pnpm soak`). */
const soak = process.env.ONCELOCK_SOAK === '1';

/**
 * The torture for each of `labs`, one test each. Every run must finish, crash no worker, leave no
 * key stuck and account for every applied write; a backend with fences must also show no fence
 * regression and no lost update. Overlaps of backends without fences are printed, not judged.
 */
export function tortureSuite(labs: readonly LabKind[]): void {
  describe.sequential('torture under faults', () => {
    afterAll(() => stopAllWorkers());

    for (const lab of labs) {
      const options = soak ? soakOptions(lab) : ciOptions(lab);
      // Pooler mode needs PgBouncer (apt-get install pgbouncer); CI installs it.
      const missing = lab === 'postgres-pooler' && !pgbouncerBinary();
      it.skipIf(missing)(
        `${lab}: ${options.workers} processes x ${options.sections} sections, faults at random`,
        async () => {
          const report = await torture(options);
          console.log(summary(report));
          expect(verdict(report).problems).toEqual([]);
          expect(report.tally.sections).toBeGreaterThanOrEqual(options.workers * options.sections);
          // Most sections wrote: the faults did not simply stop all work.
          expect(report.findings.writes.accepted).toBeGreaterThan(options.workers * options.sections * 0.8);
          // Faults happened for real: a process frozen or killed, and connections cut. (Faults come
          // in rotation, but a short run on a fast machine may end before every kind's turn.)
          const f = report.faults;
          expect((f.freeze ?? 0) + (f.kill ?? 0), 'process faults').toBeGreaterThan(0);
          expect((f.partition ?? 0) + (f.reset ?? 0), 'connection faults').toBeGreaterThan(0);
          if (report.guarantees.fencing) {
            expect(report.findings.fenceRegressions).toBe(0);
            expect(report.findings.lostUpdates).toBe(0);
          }
        },
        options.limitMs + 60_000,
      );
    }
  });
}
