import { InvalidArgumentError } from '@oncelock/core';
import { count, func, readOptions } from '@oncelock/core/backend';
import type { Job, JobsOptions, Processor, Queue } from 'bullmq';
import { addSuccessor, chained, chainedOptions } from './chained.js';
import type { JobKey } from './job-key.js';
import { type JobClaim, onceProcessor } from './once-processor.js';
import type { DataOf, JobOf, NameOf } from './once-queue.js';
import { at, type OnceJobOptions, PKG } from './options.js';
import type { AddResult, OnceCancelled } from './results.js';

/** Options of {@link drainBacklog}: the batch size and the function that processes one batch. */
export interface DrainBacklogOptions<DataType, NameType extends string>
  extends Omit<OnceJobOptions<DataType, NameType>, 'mode' | 'onConflict' | 'key' | 'limit'> {
  /** The drain's key. Default: the job name (one drain per queue and job name). */
  key?: JobKey<DataType, NameType>;
  /** The most items one job takes. A full batch means more may wait: the next job is added at once. */
  batchSize: number;
  /**
   * Processes at most `size` items and resolves how many it processed. Stop when `claim.signal`
   * fires; send `claim.fence` with the writes the drain makes.
   */
  batch: (job: Job<DataType, unknown, NameType>, size: number, claim: JobClaim) => Promise<number>;
}

/** A drain job's return value. */
export interface DrainOutcome {
  /** How many items this job's batch processed. */
  readonly processed: number;
  /** The job that carries on after a full batch: the one this job added, or the one already waiting. */
  readonly next: string | undefined;
}

/** What {@link drainBacklog} returns: the processor for a worker and the trigger for a scheduler. */
export interface BacklogDrainer<Q extends Queue> {
  /** The processor of drain jobs: give it to a Worker, or call it from yours for the drain's job name. */
  readonly processor: Processor<DataOf<Q>, DrainOutcome | OnceCancelled, NameOf<Q>>;
  /**
   * Starts a drain (a periodic trigger calls this): adds a job unless one is already waiting.
   *
   * @param name - The drain job's name; the key defaults to it.
   * @param data - The drain job's data, passed on to each successor.
   * @param opts - BullMQ's job options, as for `onceQueue().add()`.
   */
  trigger(name: NameOf<Q>, data: DataOf<Q>, opts?: JobsOptions): Promise<AddResult<JobOf<Q>>>;
}

type Batch = DrainBacklogOptions<unknown, string>['batch'];

const drainOptions = {
  ...chainedOptions,
  batchSize: count({ min: 1 }).required(),
  batch: func<Batch>('a function (job, size, claim) => Promise<number>').required(),
};

/**
 * The self-requeueing backlog drainer, under `queuedAndRunning`: at most one drain job runs and at
 * most one waits. A running job gives up its queued slot when it starts, so after a full batch it
 * can always add its successor; a trigger that fires while a job already waits adds nothing.
 *
 * @param queue - The queue the drain jobs go through; each full batch adds its successor here.
 * @param options - The policy (without `mode` and `onConflict`, which the drainer sets), the size of
 *   a batch and the function that drains one.
 * @example
 * const drain = drainBacklog(queue, { backend, batchSize: 500, batch: (job, size, claim) => copyRows(size, claim.fence) });
 * new Worker(queue.name, drain.processor, { connection });
 * setInterval(() => drain.trigger('backfill', {}), 60_000);
 */
export function drainBacklog<Q extends Queue>(
  queue: Q,
  options: DrainBacklogOptions<DataOf<Q>, NameOf<Q>>,
): BacklogDrainer<Q> {
  const where = at('drainBacklog()');
  const { batchSize, batch, ...rest } = readOptions(options, drainOptions, where, true);
  const chain = chained(queue, rest, where);

  const processor = onceProcessor<DataOf<Q>, DrainOutcome, NameOf<Q>>(async (job, _token, _signal, claim) => {
    const processed = await batch(job as Job, batchSize, claim);
    if (!Number.isInteger(processed) || processed < 0 || processed > batchSize) {
      throw new InvalidArgumentError(`batch must resolve how many items it processed (0 to ${batchSize})`, {
        pkg: PKG,
      });
    }
    if (processed < batchSize) return { processed, next: undefined };
    return { processed, next: await addSuccessor(chain, job as Job, claim.key) };
  }, chain.options);

  return { processor, trigger: (name, data, opts) => chain.jobs.add(name, data, opts) };
}
