import type { LockBackend } from '@oncelock/core';
import type { QueueArm } from '../options.js';

/** What a worker process needs to run backfill jobs from a BullMQ queue. */
export interface BullmqWorkerConfig {
  arm: QueueArm;
  queue: string;
  redisUrl: string;
  postgresUrl: string;
  schema: string;
  batch: number;
  rowCostMs: number;
  retryDelay: number;
}

/** The job name every backfill job carries. */
export const JOB = 'backfill';

/**
 * The drain's policy, the same in the producer (the trigger) and in every worker process:
 * `drainBacklog` runs it under `queuedAndRunning`. A job that finds its predecessor still running
 * is put back for `retryDelay`.
 */
export function drainPolicy(backend: LockBackend, c: Pick<BullmqWorkerConfig, 'batch' | 'retryDelay'>) {
  return { backend, key: 'audit-log-backfill', batchSize: c.batch, retryDelay: c.retryDelay, ttl: 10_000 };
}
