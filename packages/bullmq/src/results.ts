import type { Holder } from '@oncelock/core';

/**
 * Nothing was added (or, from a processor, nothing ran): another job holds the key.
 * `existingJobId` names it; a refusal that came without its holder looks it up first. It is
 * `undefined` only if the key was found free after each of three refusals in a row.
 */
export interface OnceCancelled {
  /** Always `cancelled`: tells this result from `added`, `replaced` and `delayed`. */
  readonly status: 'cancelled';
  /** Always `locked`: the key was held by another job. */
  readonly reason: 'locked';
  /** The id of the job that holds the key (`queue.getJob(id)`); `undefined` only as said above. */
  readonly existingJobId: string | undefined;
}

/**
 * What `add()` did:
 * - `added`: a new job, which holds the claim;
 * - `replaced`: no new job; the queued job `job` now carries this call's data (`onConflict: 'replace'`);
 * - `delayed`: no new job; the queued job `job` was postponed (`onConflict: 'delay'`);
 * - `cancelled`: no new job; `existingJobId` is the job that holds the key.
 */
export type AddResult<J> =
  | { readonly status: 'added'; readonly job: J }
  | { readonly status: 'replaced'; readonly job: J }
  | { readonly status: 'delayed'; readonly job: J }
  | OnceCancelled;

export function cancelled(holder: Holder | undefined): OnceCancelled {
  return { status: 'cancelled', reason: 'locked', existingJobId: holder?.owner };
}
