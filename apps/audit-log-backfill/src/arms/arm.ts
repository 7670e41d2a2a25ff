import { type BatchSettings, backfillBatch } from '../batch.js';
import type { JobReport } from '../metrics.js';
import type { AuditTable } from '../table/table.js';

/** Where an arm puts jobs and what it tells the run about them; the same for both queues. */
export interface ArmContext {
  table: AuditTable;
  settings: BatchSettings;
  /** Puts job `id` on the queue and counts it as enqueued. */
  add(id: string): Promise<void>;
  /** Makes a delayed job `id` due now; nothing if it is not delayed. */
  promote(id: string): Promise<void>;
  report(report: JobReport): void;
}

/** What a worker should do with a job it just ran. */
export type AfterJob = { retryInMs: number } | undefined;

/** One way to run the backfill: how the trigger enqueues, and how a worker runs a job. */
export interface Arm {
  readonly name: 'naive' | 'oncelock';
  /** The periodic trigger fired. Resolves `true` if it put a job on the queue. */
  trigger(): Promise<boolean>;
  /** A worker took job `id` off the queue. */
  process(id: string): Promise<AfterJob>;
}

/** Runs one batch and reports it, failure included; a failure is then rethrown. */
export async function reportedBatch(
  ctx: Pick<ArmContext, 'table' | 'settings' | 'report'>,
): Promise<{ filled: number; full: boolean }> {
  const processed: number[] = [];
  try {
    const r = await backfillBatch(ctx.table, ctx.settings, (ids) => processed.push(...ids));
    ctx.report({ processed, outcome: r.filled > 0 ? 'filled' : 'empty' });
    return r;
  } catch (error) {
    ctx.report({ processed, outcome: 'failed', error: (error as Error).message ?? String(error) });
    throw error;
  }
}

/** Runs one batch and reports it. Resolves whether the batch was full (more rows may wait). */
export async function runBatchJob(ctx: ArmContext): Promise<boolean> {
  return reportedBatch(ctx).then(
    (r) => r.full,
    () => false, // reported already; the job is over
  );
}

/** Job ids unique across processes and runs: the arm, the process and a counter. */
export function jobIds(arm: string): () => string {
  let n = 0;
  return () => `${arm}-${process.pid}-${++n}`;
}
