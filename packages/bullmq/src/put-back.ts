import { InvalidArgumentError } from '@oncelock/core';
import type { Job } from 'bullmq';
import { PKG } from './options.js';

/**
 * Moves the running job back to delayed until `timestamp` (the worker's clock) without spending
 * an attempt: `moveToDelayed`, after which the processor must throw BullMQ's `DelayedError` (not
 * a failure). Throws if the job cannot be moved; the caller then undoes what it prepared.
 *
 * @param job - The job the processor runs.
 * @param token - The worker's lock token for it, which `moveToDelayed` needs.
 * @param timestamp - When BullMQ starts the job again, in `Date.now()` milliseconds.
 */
export async function moveBack(job: Job, token: string | undefined, timestamp: number): Promise<void> {
  if (token === undefined) {
    throw new InvalidArgumentError('a guarded processor needs the worker token to put a job back', {
      pkg: PKG,
    });
  }
  await job.moveToDelayed(timestamp, token);
}
