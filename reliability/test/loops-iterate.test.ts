import { stopAllWorkers } from '@oncelock/testkit/faults';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ciIterateOptions,
  iterateSummary,
  iterateTorture,
  iterateVerdict,
  soakIterateOptions,
} from '../src/loops/iterate-torture.js';
import { loopLabKinds } from '../src/loops/lab.js';

/** ONCELOCK_SOAK=1 runs the size (100,000 rows in chunks of 1,000). */
const soak = process.env.ONCELOCK_SOAK === '1';

/**
 * `iterate` over a PostgreSQL table, walked by 4 processes, once without faults and once with
 * the leading process SIGKILLed 5 times (another takes over from the saved cursor). Every row
 * processed, none twice within chunks whose cursor was saved, the saved chunks one unbroken
 * chain, at most one chunk redone per kill. The killed walk's time against the uninterrupted
 * one is printed here and judged by the soak runner (no timed assertions in CI).
 */
describe.sequential('iterate under kills', () => {
  afterAll(() => stopAllWorkers());

  for (const lab of loopLabKinds) {
    const o = soak ? soakIterateOptions(lab) : ciIterateOptions(lab);
    it(`${lab}: ${o.rows} rows in chunks of ${o.chunk}, the leader killed ${o.kills} times`, async () => {
      const report = await iterateTorture(o);
      console.log(iterateSummary(report));
      expect(iterateVerdict(report, false).problems).toEqual([]);
      expect(report.killed.kills).toHaveLength(o.kills);
      expect(report.killed.checks.committed).toBe(Math.ceil(o.rows / o.chunk));
      expect(report.killed.checks.twiceInCommitted).toBe(0);
      expect(report.killed.checks.missing).toBe(0);
    }, 300_000);
  }
});
