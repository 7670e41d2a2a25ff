import {
  CapabilityUnsupportedError,
  InvalidArgumentError,
  type Lease,
  type OnceMode,
  type RunClaim,
  tryLease,
} from '@oncelock/core';
import { func, queuedSlot } from '@oncelock/core/backend';
import { DelayedError, type Job, type Processor } from 'bullmq';
import { failsForGood } from './attempts.js';
import { claim, holderOf } from './claims.js';
import { claimNamed, type StateOf } from './holder.js';
import { at, type OnceJobOptions, PKG, type Policy, policyOf } from './options.js';
import { moveBack } from './put-back.js';
import type { JobRate } from './rate-options.js';
import { rateLimitedProcessor } from './rate-processor.js';
import { cancelled, type OnceCancelled } from './results.js';
import { type Parking, Wakeups } from './wakeups.js';
import { lockDurationOf, statesBeside } from './worker-view.js';

/** What a guarded processor receives beside the job: its claim while it runs. */
export interface JobClaim {
  /** The lock key (queue prefix, queue name, your key), or `null` if this job is not guarded. */
  /** The job's lock key; `null` when the policy's key function left the job unguarded. */
  readonly key: string | null;
  /** The policy's mode. */
  readonly mode: OnceMode;
  /** The running claim; absent in `untilRunning` (nothing is held while running) and for unguarded jobs. */
  readonly lease: Lease | undefined;
  /** The same signal as the processor's third argument. */
  readonly signal: AbortSignal;
  /**
   * The running claim's fence: send it with every write the claim protects. Throws
   * `CapabilityUnsupportedError` when there is no running claim or the backend makes no fences.
   */
  readonly fence: number;
}

/**
 * A processor that also receives its claim. `signal` fires when the claim is lost or BullMQ cancels the job.
 *
 * @param job - The BullMQ job being processed.
 * @param token - The worker's lock token for the job, as BullMQ passes it to a processor.
 * @param signal - Aborts when the claim is lost or BullMQ cancels the job: stop the work then.
 * @param claim - The job's claim: its key, mode, lease and fence.
 */
export type OnceProcessorFunction<DataType, ResultType, NameType extends string> = (
  job: Job<DataType, ResultType, NameType>,
  token: string | undefined,
  signal: AbortSignal,
  claim: JobClaim,
) => Promise<ResultType>;

const processorOption = func('a function (job, token, signal, claim) => Promise<result>').required();

/**
 * Wraps a BullMQ processor with the run-time half of the policy: the job takes its running claim
 * (handing over the claim `add()` made for it, since both are held by the job id), runs, and
 * gives it up when it completes or fails for good. Between retries the claim is kept.
 *
 * A job that finds its key held does not fail and spends no attempt: it completes with
 * `{ status: 'cancelled', reason: 'locked', existingJobId }`, or, in `queuedAndRunning` (and in
 * `whileRunning` with `onConflict: 'delay'`), is put back as delayed and tried again after
 * `retryDelay`; a job over a `limit` that is put back is also woken when a permit frees.
 *
 * @typeParam DataType - The data of the queue's jobs.
 * @typeParam ResultType - What the processor resolves.
 * @typeParam NameType - The names of the queue's jobs.
 * @param processor - The job's work. It also gets a `signal`, which aborts when the claim is lost or
 *   BullMQ cancels the job, and the `claim` with its fence.
 * With a `rate`, the jobs of each rate key also start at most `limit` times per `per` ms across
 * the fleet: a job over the rate is put back until exactly its reserved slot before it claims
 * (the same as wrapping this processor in `rateLimitedProcessor()`).
 *
 * @param options - The policy: the same object the producers' `onceQueue()` gets, and
 *   optionally a `rate` for the workers.
 * @example
 * new Worker('scans', onceProcessor(async (job, token, signal, claim) => scan(job.data, claim.fence, signal), policy), { connection });
 */
export function onceProcessor<DataType, ResultType, NameType extends string = string>(
  processor: OnceProcessorFunction<DataType, ResultType, NameType>,
  options: OnceJobOptions<DataType, NameType> & { rate?: JobRate<DataType, NameType> },
): Processor<DataType, ResultType | OnceCancelled, NameType> {
  if (options !== null && typeof options === 'object' && options.rate !== undefined) {
    const { rate, ...guard } = options;
    return rateLimitedProcessor(onceProcessor(processor, guard), { backend: guard.backend, rate });
  }
  const where = at('onceProcessor()');
  processorOption.read(processor, 'processor', where);
  const policy = policyOf(options, where);
  const wakeups = new Wakeups(policy);
  // Three declared parameters: BullMQ makes a cancellation signal only for processors that declare one.
  return async function onceGuarded(job, token, signal) {
    // The job's declared result type includes the cancelled outcome; the processor never sees it.
    return runGuarded(
      policy,
      wakeups,
      processor,
      job as unknown as Job<DataType, ResultType, NameType>,
      token,
      signal,
    );
  };
}

async function runGuarded<DataType, ResultType, NameType extends string>(
  policy: Policy<DataType, NameType>,
  wakeups: Wakeups,
  processor: OnceProcessorFunction<DataType, ResultType, NameType>,
  job: Job<DataType, ResultType, NameType>,
  token: string | undefined,
  bullSignal: AbortSignal | undefined,
): Promise<ResultType | OnceCancelled> {
  const key = policy.keyOf(job.queueQualifiedName, job.name, job.data);
  const id = job.id;
  if (key === null || id === undefined) {
    const signal = bullSignal ?? new AbortController().signal;
    return processor(job, token, signal, claimOf(null, policy.mode, undefined, signal));
  }
  checkTtlAgainstLock(policy.ttl, lockDurationOf(job as Job));
  if (policy.limit > 1) {
    return runLimited(policy, wakeups, job as Job, token, key, (permit) => {
      const signal = bullSignal ? AbortSignal.any([permit.signal, bullSignal]) : permit.signal;
      return processor(job, token, signal, claimOf(key, policy.mode, permit, signal));
    });
  }
  const guard = policy.guard(key);
  const stateOf = statesBeside(job as Job);
  const start = () => guard.start(id);
  const refusal = (r: Awaited<ReturnType<typeof start>>) => (r.status === 'started' ? undefined : r);
  const lookUp = () => holderOf(policy, key);
  const claimed = await claimNamed(start, refusal, lookUp, guard.abandon, stateOf, policy);
  const started = claimed.result;

  if (started.status === 'busy') return awaitTurn(policy, job, token, key, stateOf, guard.abandon);
  if (started.status === 'cancelled') {
    if (policy.mode === 'whileRunning' && policy.onConflict === 'delay')
      return putBack(job, token, policy.retryDelay);
    return cancelled(claimed.holder);
  }

  const run = started.run;
  const signal = bullSignal ? AbortSignal.any([run.signal, bullSignal]) : run.signal;
  let result: ResultType;
  try {
    result = await processor(job, token, signal, claimOf(key, policy.mode, run.lease, signal));
  } catch (error) {
    await settle(policy, key, job as Job, run, failsForGood(job as Job, error));
    throw error;
  }
  await settle(policy, key, job as Job, run, true);
  return result;
}

/**
 * `whileRunning` with `limit`: the job runs under one of the key's permits, taken by its id, and
 * gives it up however the attempt ends (a retry waits without one, as it is not running). Over
 * the limit it completes as cancelled, or with `onConflict: 'delay'` is put back and woken when
 * a permit frees (see Wakeups).
 */
async function runLimited<D, R, N extends string>(
  policy: Policy<D, N>,
  wakeups: Wakeups,
  job: Job,
  token: string | undefined,
  key: string,
  run: (permit: Lease) => Promise<R>,
): Promise<R | OnceCancelled> {
  const id = job.id as string;
  wakeups.forget(key, id);
  // The policy's requirements were checked when it was read.
  const take = () => tryLease(policy.backend, key, { ttl: policy.ttl, limit: policy.limit, owner: id });
  let permit = await take();
  if (!permit && policy.onConflict !== 'delay') return cancelled((await holderOf(policy, key)) ?? undefined);
  if (!permit) {
    const parking = await wakeups.join(key, job);
    if (parking === 'free') permit = await take();
    if (!permit) return putBack(job, token, policy.retryDelay, parking === 'free' ? undefined : parking);
  }
  try {
    return await run(permit);
  } finally {
    // A lost permit sends nothing: its owner, the job id, may hold it again on another worker.
    await permit.release().catch(() => false);
  }
}

/**
 * A frozen worker must lose its claim before BullMQ gives its stalled job to another worker: BullMQ
 * renews a job's lock at least every half `lockDuration`, so the lock outlives a freeze by at least
 * that much, and a claim of at most that TTL has run out locally by then.
 */
function checkTtlAgainstLock(ttl: number, lockDuration: number | undefined): void {
  if (lockDuration === undefined || ttl <= lockDuration / 2) return;
  throw new InvalidArgumentError(
    `ttl (${ttl} ms) must be at most half the worker's lockDuration (${lockDuration} ms): a frozen worker could otherwise still believe it holds the claim when its stalled job runs elsewhere`,
    { pkg: PKG },
  );
}

/**
 * The end of an attempt. Done for good (completed, or failed with no attempt left): the claim ends
 * now. Coming back (a retry, or the processor moved the job): the claim is kept for the job id with
 * `queuedTtl`, so no other job of the key takes its place meanwhile. The running lease must be
 * released to stop its heartbeat, so there is one round trip between its release and the re-claim
 * in which another job could take the key; that job then goes first, and this one is cancelled or
 * put back when it comes back.
 *
 * A lost lease is left alone: its owner is the job id, and the claim may now be held by the same
 * job running again on another worker (BullMQ found this attempt stalled). Releasing it would take
 * the claim from that attempt.
 */
async function settle<D, N extends string>(
  policy: Policy<D, N>,
  key: string,
  job: Job,
  run: RunClaim,
  forGood: boolean,
): Promise<void> {
  if (run.lease && !run.lease.held) return;
  await run.finish();
  if (forGood || !run.lease || job.id === undefined) return;
  await claim(policy, key, job.id, policy.queuedTtl).catch(() => {});
}

/**
 * `queuedAndRunning`, and the key is running: this job keeps (or takes) the queued slot and is
 * put back to try again later. If another job already holds the slot, this one is a duplicate of
 * it and completes as cancelled: at most one job waits.
 */
async function awaitTurn<D, N extends string>(
  policy: Policy<D, N>,
  job: Job,
  token: string | undefined,
  key: string,
  stateOf: StateOf,
  abandon: (owner: string) => Promise<void>,
): Promise<OnceCancelled> {
  const id = job.id as string;
  const slot = queuedSlot(key);
  const take = () => claim(policy, slot, id, policy.queuedTtl);
  const lookUp = () => holderOf(policy, slot);
  const taken = await claimNamed(take, (r) => (r.granted ? undefined : r), lookUp, abandon, stateOf, policy);
  if (!taken.result.granted) return cancelled(taken.holder);
  return putBack(job, token, policy.retryDelay);
}

/**
 * Moves the running job back to delayed, `retryDelay` from now with some jitter, without spending
 * an attempt, and tells BullMQ so (a `DelayedError` is not a failure).
 */
async function putBack(
  job: Job,
  token: string | undefined,
  retryDelay: number,
  parking?: Parking,
): Promise<never> {
  // Jitter keeps jobs put back together from coming back together.
  const delay = Math.round(retryDelay * (0.8 + Math.random() * 0.4));
  try {
    await moveBack(job, token, Date.now() + delay);
  } catch (error) {
    parking?.cancel();
    throw error;
  }
  parking?.delayed(delay);
  throw new DelayedError();
}

function claimOf(
  key: string | null,
  mode: OnceMode,
  lease: Lease | undefined,
  signal: AbortSignal,
): JobClaim {
  return {
    key,
    mode,
    lease,
    signal,
    get fence() {
      if (!lease) {
        throw new CapabilityUnsupportedError(
          key === null
            ? 'this job is not guarded (its key is null)'
            : "'untilRunning' holds no claim while the job runs",
          { pkg: PKG },
        );
      }
      return lease.fence;
    },
  };
}
