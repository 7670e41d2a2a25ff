import { setTimeout } from 'node:timers/promises';
import { type Holder, LockNotAcquiredError } from '@oncelock/core';
import type { Job } from 'bullmq';
import { claim } from './claims.js';
import { claimAge, isQueued } from './holder.js';
import type { Policy } from './options.js';
import { type AddResult, cancelled } from './results.js';

interface Existing<J> {
  /** The holder's job, if it can still be found. */
  find(id: string): Promise<J | undefined>;
}

/**
 * `add()` found the key claimed by `holder`: applies `policy.onConflict`. Nothing here fails a job
 * or adds one; `replace` and `delay` change the queued job only while it has not started.
 */
export async function resolveConflict<J extends Job>(
  policy: Pick<Policy<unknown, string>, 'onConflict' | 'where' | 'backend' | 'queuedTtl' | 'addTimeout'>,
  slot: string,
  holder: Holder | undefined,
  data: unknown,
  delay: number,
  existing: Existing<J>,
): Promise<AddResult<J>> {
  if (policy.onConflict === 'throw') throw new LockNotAcquiredError(slot, holder, policy.where);
  if (policy.onConflict === 'cancel' || !holder) return cancelled(holder);
  const job = await arrival(holder, policy, existing);
  if (!job) return cancelled(holder);
  if (policy.onConflict === 'replace') return replace(job, data, holder);
  const result = await postpone(job, delay, holder);
  // The postponed job waits longer than its add planned for: its claim's TTL starts again (by
  // job id, re-entrant; refused, and left alone, if the claim is no longer that job's).
  if (result.status === 'delayed') await claim(policy, slot, holder.owner, policy.queuedTtl);
  return result;
}

/**
 * The holder's job. A claim is made before its job is added, so the job of a claim younger than
 * `addTimeout` may still be on its way into the queue: it is waited for until then, or a racing
 * `add()` would drop its data while the job it should replace is about to wait in the queue.
 */
async function arrival<J>(
  holder: Holder,
  limits: { queuedTtl: number; addTimeout: number },
  existing: Existing<J>,
): Promise<J | undefined> {
  const age = claimAge(holder, limits.queuedTtl) ?? limits.addTimeout;
  const deadline = performance.now() + limits.addTimeout - age;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    const job = await existing.find(holder.owner);
    if (job || performance.now() >= deadline) return job;
    await setTimeout(pause);
  }
}

async function replace<J extends Job>(job: J, data: unknown, holder: Holder): Promise<AddResult<J>> {
  if (!isQueued(await job.getState())) return cancelled(holder);
  await job.updateData(data);
  // The new data counts only if the job still had not started once it was written: a worker
  // reads a job's data when it takes the job, so a job that is still queued now will see it.
  return isQueued(await job.getState()) ? { status: 'replaced', job } : cancelled(holder);
}

async function postpone<J extends Job>(job: J, delay: number, holder: Holder): Promise<AddResult<J>> {
  if ((await job.getState()) !== 'delayed') return cancelled(holder);
  try {
    // One atomic step in BullMQ, refused if the job has left the delayed set meanwhile.
    await job.changeDelay(delay);
  } catch (error) {
    if ((await job.getState()) !== 'delayed') return cancelled(holder);
    throw error;
  }
  return { status: 'delayed', job };
}
