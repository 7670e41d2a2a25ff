import { askRate, checkKey, func } from '@oncelock/core/backend';
import { DelayedError, type Job, type Processor } from 'bullmq';
import { at } from './options.js';
import { moveBack } from './put-back.js';
import { type RateJobOptions, type RatePolicy, ratePolicyOf } from './rate-options.js';
import { canCarry, dropReservation, park, takeReservation } from './rate-reservation.js';

/** The slot a job started in, which a rate-limited processor receives beside the job. */
export interface RateSlot {
  /** The rate key the start counted under. */
  readonly key: string;
  /** The slot's time on the store's clock, in milliseconds: comparable only with other slots of one store. */
  readonly at: number;
  /** True if the job had reserved the slot and waited for it in the delayed set. */
  readonly reserved: boolean;
}

/**
 * A processor that also receives its start's slot (`undefined` for a job whose key is `null`).
 *
 * @param job - The BullMQ job being processed.
 * @param token - The worker's lock token for the job.
 * @param signal - BullMQ's cancellation signal for the job.
 * @param slot - The slot the job started in, on the store's clock.
 */
export type RateProcessorFunction<DataType, ResultType, NameType extends string> = (
  job: Job<DataType, ResultType, NameType>,
  token: string | undefined,
  signal: AbortSignal | undefined,
  slot: RateSlot | undefined,
) => Promise<ResultType>;

const processorOption = func('a function (job, token, signal, slot) => Promise<result>').required();

/**
 * Wraps a BullMQ processor so that the jobs of each rate key start at most `limit` times per
 * `per` milliseconds, across every worker and process that shares the backend (GCRA on the
 * store's clock, see core's `rateLimit`). A job over the rate reserves the next free slot and is
 * put back as delayed until exactly that slot (`moveToDelayed` and `DelayedError`: no attempt
 * spent, no worker slot held while it waits); when it comes back it starts without asking again.
 * Jobs get slots in the order their workers ask. A job whose slot would be more than `wait` away
 * reserves none and is put back until one comes within reach.
 *
 * To pace jobs that are also guarded, wrap the guarded processor: `rateLimitedProcessor(
 * onceProcessor(fn, policy), { backend, rate })` paces starts, then the guard claims.
 *
 * @typeParam DataType - The data of the queue's jobs.
 * @typeParam ResultType - What the processor resolves.
 * @typeParam NameType - The names of the queue's jobs.
 * @param processor - The job's work; it also receives the slot it started in.
 * @param options - The backend that keeps the rates, and the rate: `key`, `limit`, `per`,
 *   `burst`, `wait`.
 * @example
 * new Worker('mail', rateLimitedProcessor(async (job) => smtp.send(job.data), {
 *   backend, rate: { key: 'smtp', limit: 70, per: 1000 },
 * }), { connection, concurrency: 50 });
 */
export function rateLimitedProcessor<DataType, ResultType, NameType extends string = string>(
  processor: RateProcessorFunction<DataType, ResultType, NameType>,
  options: RateJobOptions<DataType, NameType>,
): Processor<DataType, ResultType, NameType> {
  processorOption.read(processor, 'processor', at('rateLimitedProcessor()'));
  const policy = ratePolicyOf(options);
  // Three declared parameters: BullMQ makes a cancellation signal only for processors that declare one.
  return async function ratePaced(job, token, signal) {
    return runPaced(policy, processor, job, token, signal);
  };
}

async function runPaced<D, R, N extends string>(
  policy: RatePolicy<D, N>,
  processor: RateProcessorFunction<D, R, N>,
  job: Job<D, R, N>,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<R> {
  const { found, usable } = takeReservation(job as Job);
  const key = rateKeyOf(policy, job);
  const run = async (slot: RateSlot | undefined): Promise<R> => {
    if (found && !slot?.reserved) await dropReservation(job as Job);
    return processor(job, token, signal, slot);
  };
  if (key === null) return run(undefined);
  if (usable?.key === key) {
    // BullMQ starts a delayed job once its time has come on a worker's clock; a job promoted by
    // hand comes early, and goes back until its slot.
    if (Date.now() < usable.due) return park(job as Job, token, usable);
    return run({ key, at: usable.at, reserved: true });
  }
  const reserve = canCarry(job as Job) ? policy.wait : 0;
  const d = await askRate(policy.backend, key, { ...policy, wait: reserve });
  if (d.allowed && d.delay === 0) return run({ key, at: d.at, reserved: false });
  // The store decided before its reply left, so its slot is at most `delay` after the reply:
  // a job due `delay` after it never starts early.
  if (d.allowed) return park(job as Job, token, { key, at: d.at, due: Math.ceil(Date.now() + d.delay) });
  // Beyond `wait`: back when the slot is within reach, to ask again.
  if (found) await dropReservation(job as Job);
  await moveBack(job as Job, token, Math.ceil(Date.now() + d.retryAfter - reserve));
  throw new DelayedError();
}

/** The job's rate key: the policy's key, fixed or computed from the job (not scoped to the queue). */
function rateKeyOf<D, N extends string>(policy: RatePolicy<D, N>, job: Job<D, unknown, N>): string | null {
  const own = typeof policy.key === 'string' ? policy.key : policy.key(job.name, job.data);
  return own === null || own === undefined ? null : checkKey(own);
}
