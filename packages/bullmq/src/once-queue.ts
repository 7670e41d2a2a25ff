import type { EnqueueResult } from '@oncelock/core';
import { client, duration, invalid, newToken, object, queuedSlot } from '@oncelock/core/backend';
import type { Job, JobsOptions, Queue } from 'bullmq';
import { holderOf } from './claims.js';
import { resolveConflict } from './conflict.js';
import { type Claimed, claimNamed, type StateOf } from './holder.js';
import { at, type OnceJobOptions, PKG, type Policy, policyOf } from './options.js';
import { type AddResult, cancelled } from './results.js';

// BullMQ's Queue has six type parameters; these read the three that matter off its add().
export type DataOf<Q extends Queue> = Parameters<Q['add']>[1];
export type NameOf<Q extends Queue> = Parameters<Q['add']>[0];
export type JobOf<Q extends Queue> = Awaited<ReturnType<Q['add']>>;

/** A queue whose `add()` keeps at most one job per key queued (and, by mode, running). */
export interface OnceQueue<Q extends Queue> {
  /** The BullMQ queue passed to `onceQueue`, for everything this wrapper does not change. */
  readonly queue: Q;
  /**
   * Claims the job's key for a new job id, then adds the job under that id. `opts` are BullMQ's
   * job options, except `jobId`, `deduplication` and `repeat`, which this package replaces.
   * A refused claim adds nothing (see `onConflict`); contention never throws unless
   * `onConflict` is `throw`.
   *
   * @param name - The job's name, as for `queue.add()`; the policy's `key` function receives it.
   * @param data - The job's data; the policy's `key` function receives it, and `replace` writes it.
   * @param opts - BullMQ's job options, without `jobId`, `deduplication`, `debounce` and `repeat`.
   */
  add(name: NameOf<Q>, data: DataOf<Q>, opts?: JobsOptions): Promise<AddResult<JobOf<Q>>>;
  /**
   * Removes a job that is not running and gives up its claims. Resolves `false` if the job does
   * not exist or is running (a running job keeps its claim until it ends).
   *
   * @param jobId - The id `add()` gave the job (`result.job.id`).
   */
  remove(jobId: string): Promise<boolean>;
}

// Options that would make BullMQ pick or reuse a job id, or add jobs behind this package's back.
const owned = ['jobId', 'deduplication', 'debounce', 'repeat'] as const;
const queueOption = client<Queue>('a BullMQ Queue', ['add', 'getJob', 'getJobState', 'remove']).required();
const jobOptions = object<JobsOptions>('an object of BullMQ job options');
const jobDelay = duration();

/**
 * Wraps `queue` so that `add()` claims each job's key before adding it.
 *
 * @param queue - The BullMQ queue to add jobs to; it is used as it is, never closed.
 * @param options - The policy: the same object the workers' `onceProcessor()` gets.
 * @example
 * const policy = { backend, mode: 'untilDone', key: (name, data) => `scan:${data.shard}` } as const;
 * const scans = onceQueue(queue, policy);
 * const r = await scans.add('scan', { shard: 3 });
 * if (r.status === 'cancelled') console.log('already queued or running:', r.existingJobId);
 */
export function onceQueue<Q extends Queue>(
  queue: Q,
  options: OnceJobOptions<DataOf<Q>, NameOf<Q>>,
): OnceQueue<Q> {
  const where = at('onceQueue()');
  queueOption.read(queue, 'queue', where);
  const policy = policyOf(options, where);
  // Internally a job is a plain Job; the result is typed as the queue's own jobs at the boundary.
  const q = queue as unknown as Queue;
  const find = (id: string): Promise<Job | undefined> => q.getJob(id);
  const stateOf: StateOf = (id) => q.getJobState(id);

  async function add(name: NameOf<Q>, data: DataOf<Q>, opts?: JobsOptions): Promise<AddResult<Job>> {
    const key = policy.keyOf(q.qualifiedName, name, data);
    if (key === null) return { status: 'added', job: await q.add(name, data, opts) };
    const o = checkAddOptions(opts, policy);
    // whileRunning claims nothing at add time: its claim is made when a job starts.
    if (policy.mode === 'whileRunning') return { status: 'added', job: await q.add(name, data, o) };
    const guard = policy.guard(key);
    const slot = policy.mode === 'untilDone' ? key : queuedSlot(key);
    const id = `once-${newToken()}`;
    const claimSlot = () =>
      claimNamed(
        () => guard.enqueue(id),
        refusal,
        () => holderOf(policy, slot),
        guard.abandon,
        stateOf,
        policy,
      );
    const claimed = await claimSlot();
    if (claimed.result.status === 'cancelled')
      return resolveConflict(policy, slot, claimed.holder, data, o.delay ?? 0, { find });

    // Claimed first, added second: a refused claim adds nothing, and a failed add gives the
    // claim back. A producer that dies between the two leaves a claim without a job, which
    // the next add() takes over once it is older than addTimeout (see isStale).
    const began = performance.now();
    let job: Job;
    try {
      job = await q.add(name, data, { ...o, jobId: id });
    } catch (error) {
      await guard.abandon(id).catch(() => {});
      throw error;
    }
    if (performance.now() - began < policy.addTimeout / 2) return { status: 'added', job };
    return confirm(job, await claimSlot(), (jobId) => q.remove(jobId));
  }

  return {
    queue,
    add: (name, data, opts) => add(name, data, opts) as Promise<AddResult<JobOf<Q>>>,

    async remove(jobId) {
      const job = await find(jobId);
      if (!job) return false;
      const key = policy.keyOf(q.qualifiedName, job.name, job.data);
      // BullMQ refuses to remove a running (locked) job; only a removed job gives up its claim.
      if ((await q.remove(jobId)) !== 1) return false;
      if (key !== null) await policy.guard(key).abandon(jobId);
      return true;
    },
  };
}

/**
 * After a slow add, another producer may have taken the claim over, believing the job lost. The
 * job then re-claims (re-entrant if the claim is still its own); if someone else holds the key,
 * this job is the duplicate and is removed, unless a worker has already taken it, in which case
 * its processor's guard decides.
 */
async function confirm(
  job: Job,
  r: Claimed<EnqueueResult>,
  remove: (jobId: string) => Promise<number>,
): Promise<AddResult<Job>> {
  if (r.result.status === 'claimed' || job.id === undefined) return { status: 'added', job };
  return (await remove(job.id)) === 1 ? cancelled(r.holder) : { status: 'added', job };
}

/** The refusal in an enqueue's result, if it was refused. */
const refusal = (r: EnqueueResult) => (r.status === 'cancelled' ? r : undefined);

/** `opts` of a guarded job's `add()`, checked in every mode; the delay's limits only where add() claims. */
function checkAddOptions(opts: unknown, policy: Policy<unknown, string>): JobsOptions {
  const where = at('add()');
  const o = jobOptions.read(opts, 'opts', where) ?? {};
  for (const name of owned) {
    if ((o as Record<string, unknown>)[name] !== undefined)
      throw invalid(where, `opts.${name} cannot be used with a once-guarded job: ${PKG} chooses its job ids`);
  }
  const delay = jobDelay.read(o.delay, 'opts.delay', where) ?? 0;
  if (policy.mode === 'whileRunning') return o;
  if (policy.onConflict === 'delay' && delay <= 0) {
    throw invalid(where, "onConflict 'delay' postpones the queued job by opts.delay: give a delay above 0");
  }
  if (delay >= policy.queuedTtl) {
    throw invalid(
      where,
      'opts.delay must be shorter than queuedTtl, or the claim lapses before the job can run',
    );
  }
  return o;
}
