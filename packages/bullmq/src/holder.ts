import type { Holder } from '@oncelock/core';
import type { JobState } from 'bullmq';

export type StateOf = (jobId: string) => Promise<JobState | 'unknown'>;

/** States of a job that has not started, or waits to start again (delayed covers retries). */
const queued: ReadonlySet<string> = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export const isQueued = (state: string): boolean => queued.has(state);

/**
 * Whether a claim is stale: its holder (a job id) has finished, or cannot be found although its
 * claim is older than `addTimeout`. A job that cannot be found may still be on its way into the
 * queue: claims are made before `queue.add()` so that a refused claim adds nothing. Such a claim
 * was made with `queuedTtl`, so its age is `queuedTtl - ttlRemaining`. A backend that does not
 * report `ttlRemaining` never makes a missing holder stale: its claim then lapses at its TTL.
 *
 * Active, queued and retrying holders are never stale, so a takeover never races a live job.
 */
export async function isStale(
  holder: Holder | undefined,
  stateOf: StateOf,
  limits: { queuedTtl: number; addTimeout: number },
): Promise<boolean> {
  if (!holder) return false;
  const state = await stateOf(holder.owner);
  if (state === 'completed' || state === 'failed') return true;
  if (state !== 'unknown') return false;
  return holder.ttlRemaining !== undefined && holder.ttlRemaining < limits.queuedTtl - limits.addTimeout;
}

/**
 * Runs `attempt`; if its holder (`refusedBy` returns it) is stale, gives up every claim of that
 * holder with `abandon` (compare-and-delete by owner, so a claim taken anew meanwhile survives)
 * and runs `attempt` once more.
 */
export async function retryIfStale<R>(
  attempt: () => Promise<R>,
  refusedBy: (result: R) => Holder | undefined,
  abandon: (owner: string) => Promise<void>,
  stateOf: StateOf,
  limits: { queuedTtl: number; addTimeout: number },
): Promise<R> {
  const first = await attempt();
  const holder = refusedBy(first);
  if (!holder || !(await isStale(holder, stateOf, limits))) return first;
  await abandon(holder.owner);
  return attempt();
}
