import { DelayedError, type Job } from 'bullmq';
import { moveBack } from './put-back.js';

// A job that reserved a slot waits for it in BullMQ's delayed set and carries the reservation in
// its data, under one property, so that when it comes back it starts without asking the store
// again. The reservation names the attempt that may use it (BullMQ's `attemptsStarted`, which
// each move to active counts): any other attempt (a retry, a stalled job run again) asks anew,
// so a slot is never used twice.

/** The property of a job's data that carries its reserved slot. */
export const RESERVATION = '@oncelock/rate';

/** A slot reserved for a job. */
export interface Reservation {
  /** The rate key the slot was reserved under. */
  readonly key: string;
  /** The slot's time on the store's clock, in milliseconds. */
  readonly at: number;
  /** The slot on the worker's clock (`Date.now()`): the job starts no earlier. */
  readonly due: number;
  /** The attempt (`attemptsStarted`) that may use it: the next one after it was put back. */
  readonly attempt: number;
}

type Data = Record<string, unknown>;

const isRecord = (data: unknown): data is Data =>
  data !== null && typeof data === 'object' && !Array.isArray(data);

/**
 * Whether the job can carry a reservation: its data is an object (other data would change shape),
 * and its BullMQ counts started attempts.
 */
export const canCarry = (job: Job): boolean => isRecord(job.data) && typeof job.attemptsStarted === 'number';

/**
 * Takes the reservation out of the job's data in memory, so that neither the key function nor the
 * processor sees it. `found`: the data had one (it is still stored until the data is written).
 * `usable`: it is this attempt's, for `key`.
 */
export function takeReservation(job: Job): { found: boolean; usable?: Reservation } {
  const data: unknown = job.data;
  if (!isRecord(data) || !Object.hasOwn(data, RESERVATION)) return { found: false };
  const carried = data[RESERVATION] as Partial<Reservation> | null;
  delete data[RESERVATION];
  const valid =
    isRecord(carried) &&
    typeof carried.key === 'string' &&
    typeof carried.at === 'number' &&
    typeof carried.due === 'number' &&
    carried.attempt === job.attemptsStarted;
  return { found: true, ...(valid && { usable: carried as Reservation }) };
}

/**
 * Writes a reservation found on the job but not used by this attempt out of its stored data: a
 * retried job whose BullMQ reset `attemptsStarted` would otherwise meet it again.
 */
export async function dropReservation(job: Job): Promise<void> {
  await job.updateData(job.data);
}

/**
 * Puts the job back until `slot.due` carrying its reservation for the next attempt, and tells
 * BullMQ so: always throws (`DelayedError` once the job is delayed).
 */
export async function park(
  job: Job,
  token: string | undefined,
  slot: Omit<Reservation, 'attempt'>,
): Promise<never> {
  const reservation: Reservation = { ...slot, attempt: job.attemptsStarted + 1 };
  await job.updateData({ ...(job.data as Data), [RESERVATION]: reservation });
  await moveBack(job, token, slot.due);
  throw new DelayedError();
}
