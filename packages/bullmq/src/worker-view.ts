import { Job, type JobState } from 'bullmq';
import type { StateOf } from './holder.js';

// What a running job can tell about its worker. BullMQ builds the jobs a worker runs with the
// worker itself as their queue handle (`job.queue`, declared protected): through it a processor
// reads other jobs of its queue and the worker's options, without a second connection.

type Handle = Parameters<typeof Job.fromId>[0];

function handleOf(job: Job): Handle | undefined {
  return (job as unknown as { queue?: Handle }).queue;
}

/** The state of another job of the same queue, `'unknown'` if it does not exist. */
export function statesBeside(job: Job): StateOf {
  const queue = handleOf(job);
  return async (id): Promise<JobState | 'unknown'> => {
    if (!queue) return 'active'; // Cannot look: treat the holder as live, so nothing is taken over.
    const other = await Job.fromId(queue, id);
    return other ? other.getState() : 'unknown';
  };
}

/** The worker's `lockDuration`, if the job came from a worker. */
export function lockDurationOf(job: Job): number | undefined {
  const lockDuration = (handleOf(job)?.opts as { lockDuration?: unknown } | undefined)?.lockDuration;
  return typeof lockDuration === 'number' ? lockDuration : undefined;
}
