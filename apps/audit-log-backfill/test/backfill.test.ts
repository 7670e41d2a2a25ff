import { describe, expect, it } from 'vitest';
import { runBackfill } from '../src/backfill.js';
import type { ArmResult } from '../src/metrics.js';
import { shortConfig } from './short-config.js';

/** What the demo exists to show, asserted on one run of the three arms. */
function expectTheStory(
  total: number,
  { naive, oncelock, loop }: Partial<Record<'naive' | 'oncelock' | 'loop', ArmResult>>,
) {
  expect(oncelock).toBeDefined();
  expect(naive).toBeDefined();
  // oncelock: every row, each rendered once, no failed job, never more than one job waiting.
  expect(oncelock!.rowsFilled).toBe(total);
  expect(oncelock!.duplicateWork).toBe(0);
  expect(oncelock!.wastedRenders).toBe(0);
  expect(oncelock!.errors).toBe(0);
  expect(oncelock!.peakQueued).toBeLessThanOrEqual(1);
  expect(oncelock!.drainMs).not.toBeNull();
  // naive: it gets there too, but overlapping batches redo rows and fail on the primary key.
  expect(naive!.rowsFilled).toBe(total);
  expect(naive!.duplicateWork).toBeGreaterThan(0);
  expect(naive!.errors).toBeGreaterThan(0);
  expect(naive!.firstError).toMatch(/duplicate key value violates unique constraint/);
  expect(naive!.peakQueued).toBeGreaterThan(oncelock!.peakQueued);
  expect(naive!.jobsEnqueued).toBeGreaterThan(oncelock!.jobsEnqueued);
  // loop: every row, each rendered once, no failed pass, and no queue at all.
  expect(loop).toBeDefined();
  expect(loop).toMatchObject({ rowsFilled: total, duplicateWork: 0, wastedRenders: 0, errors: 0 });
  expect(loop).toMatchObject({ jobsEnqueued: 0, peakQueued: 0, busyRetries: 0, triggers: 0 });
  expect(loop!.drainMs).not.toBeNull();
  // Passes that filled rows: at least one per full batch of the rows there were.
  expect(loop!.jobsRun - loop!.emptyJobs).toBeGreaterThanOrEqual(Math.floor(total / 50));
}

describe('audit-log-backfill, embedded (in-memory table, in-process queue and workers)', () => {
  it('oncelock fills every row with no duplicate work and no errors; naive shows both', async () => {
    const { workload, results } = await runBackfill(shortConfig());
    expect(workload.total).toBe(360);
    expectTheStory(workload.total, results);
    // The chart has something to draw for every arm.
    for (const r of [results.naive!, results.oncelock!, results.loop!]) {
      expect(r.queueSeries.length).toBeGreaterThan(5);
      expect(r.backlogSeries.at(-1)?.[1]).toBe(0);
    }
  });
});

describe('audit-log-backfill, Postgres table (real unique constraint), in-process workers', () => {
  it('shows the same story against PostgreSQL', async () => {
    const { workload, results } = await runBackfill(shortConfig({ store: 'postgres' }));
    expectTheStory(workload.total, results);
  });
});

describe('audit-log-backfill, Postgres table, BullMQ queue, prefork worker processes', () => {
  it('shows the same story with @oncelock/bullmq drainBacklog, and the loop on PostgreSQL, across processes', async () => {
    const { workload, results } = await runBackfill(
      shortConfig({ store: 'postgres', queue: 'bullmq', workers: 3 }),
    );
    expectTheStory(workload.total, results);
  });
});
