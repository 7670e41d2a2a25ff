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
  const age = claimAge(holder, limits.queuedTtl);
  return age !== undefined && age > limits.addTimeout;
}

/** How long ago a queued claim was made: it is made with `queuedTtl`, so `queuedTtl - ttlRemaining`. */
export const claimAge = (holder: Holder, queuedTtl: number): number | undefined =>
  holder.ttlRemaining === undefined ? undefined : queuedTtl - holder.ttlRemaining;

/** Tries a claim makes at most: a refusal without a holder, then a stale holder, then the last try. */
const TRIES = 3;

/** What a claim ended with: its last result, and the holder that refused it (none if granted). */
export interface Claimed<R> {
  readonly result: R;
  readonly holder: Holder | undefined;
}

/**
 * Runs `attempt` until it is granted or refused by a holder that is named and not stale, and
 * returns that holder with the result, so that a refusal always names the job in the way.
 *
 * A refusal may come without its holder: PostgreSQL refuses a claim that lost the race to a row
 * committed after the statement's snapshot, which the same statement cannot read; a store may also
 * refuse and let go before it reads the holder. The holder is then looked up (`lookUp`), and a key
 * found free is tried again. A stale holder (see isStale) has every claim of its given up with
 * `abandon` (compare-and-delete by owner, so a claim taken anew meanwhile survives), once.
 */
export async function claimNamed<R>(
  attempt: () => Promise<R>,
  refusal: (result: R) => { readonly holder?: Holder } | undefined,
  lookUp: () => Promise<Holder | null>,
  abandon: (owner: string) => Promise<void>,
  stateOf: StateOf,
  limits: { queuedTtl: number; addTimeout: number },
): Promise<Claimed<R>> {
  let abandoned = false;
  for (let tries = 1; ; tries++) {
    const result = await attempt();
    const refused = refusal(result);
    if (!refused) return { result, holder: undefined };
    const holder = refused.holder ?? (await lookUp()) ?? undefined;
    if (tries === TRIES) return { result, holder };
    if (!holder) continue;
    if (abandoned || !(await isStale(holder, stateOf, limits))) return { result, holder };
    await abandon(holder.owner);
    abandoned = true;
  }
}
