import { queuedSlot } from '@oncelock/core/backend';
import type { Job, JobsOptions, Queue } from 'bullmq';
import { unclaim } from './claims.js';
import { jobKey } from './job-key.js';
import { type DataOf, type NameOf, type OnceQueue, onceQueue } from './once-queue.js';
import { type OnceJobOptions, type Policy, policyOf, policyOptions } from './options.js';

// What the self-requeueing jobs (drainBacklog, chunkChain) share: a policy fixed to
// `queuedAndRunning` with the key defaulting to the job name, and the add of a successor.

// The policy's options but mode, onConflict and key, which a chain sets or defaults, and limit,
// which its mode does not take.
const { mode: _mode, onConflict: _onConflict, limit: _limit, ...shared } = policyOptions;
/** The options a self-requeueing job takes from the policy; the key may be left out. */
export const chainedOptions = { ...shared, key: jobKey(false) };

/** A chain's policy (`queuedAndRunning`, cancel on conflict), its guarded queue and its keys. */
export interface Chained<Q extends Queue> {
  readonly options: OnceJobOptions<DataOf<Q>, NameOf<Q>>;
  readonly policy: Policy<DataOf<Q>, NameOf<Q>>;
  readonly jobs: OnceQueue<Q>;
}

/**
 * The policy of a job that adds its own successor: at most one runs and one waits per key. A
 * running job gives up its queued slot when it starts, so it can always add its successor.
 *
 * @param queue - The chain's queue.
 * @param read - The policy options as read with `chainedOptions`.
 * @param where - The call, for error messages.
 */
export function chained<Q extends Queue>(
  queue: Q,
  read: Omit<OnceJobOptions<DataOf<Q>, NameOf<Q>>, 'key'> & {
    key?: OnceJobOptions<DataOf<Q>, NameOf<Q>>['key'];
  },
  where: { pkg: string; call: string },
): Chained<Q> {
  const options: OnceJobOptions<DataOf<Q>, NameOf<Q>> = {
    ...read,
    key: read.key ?? ((name) => name),
    mode: 'queuedAndRunning',
    onConflict: 'cancel',
  };
  return { options, policy: policyOf(options, where), jobs: onceQueue(queue, options) };
}

/**
 * Adds the successor of `job` (its name and data) and resolves the job that carries the chain on:
 * the one added, or the one already waiting.
 *
 * @param chain - The chain's policy and queue.
 * @param job - The job that ends.
 * @param key - Its lock key (the claim's key); `null` for an unguarded job.
 * @param opts - The successor's job options.
 */
export async function addSuccessor<Q extends Queue>(
  chain: Chained<Q>,
  job: Job,
  key: string | null,
  opts?: JobsOptions,
): Promise<string | undefined> {
  // Core gives the slot up when the job starts; if that round trip failed, this job still holds
  // it, and would refuse its own successor.
  if (key !== null && job.id !== undefined) await unclaim(chain.policy, queuedSlot(key), job.id);
  const added = await chain.jobs.add(job.name as NameOf<Q>, job.data as DataOf<Q>, opts);
  return added.status === 'cancelled' ? added.existingJobId : added.job.id;
}
