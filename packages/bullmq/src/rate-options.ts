import type { LockBackend } from '@oncelock/core';
import {
  checkBackend,
  checkRateLimits,
  object,
  type Read,
  rateOptions,
  readOptions,
  wait,
} from '@oncelock/core/backend';
import { type JobKey, jobKey } from './job-key.js';
import { at } from './options.js';

/**
 * A rate for the jobs of a worker: at most `limit` starts per `per` milliseconds per key, across
 * every worker and process that shares the backend.
 */
export interface JobRate<DataType = unknown, NameType extends string = string> {
  /**
   * What is limited, as a fixed key or a function of the job's name and data (`null` or
   * `undefined`: the job is not limited). A rate key is not scoped to the queue: it names what
   * is paced (an API, a tenant's quota), which the jobs of several queues may share.
   */
  key: JobKey<DataType, NameType>;
  /** Starts allowed per window of `per` milliseconds, per key, across every worker. */
  limit: number;
  /** The window, in milliseconds: `{ limit: 70, per: 1000 }` is 70 starts a second. */
  per: number;
  /** Starts allowed at once beyond the even pace after an idle spell. Default 0. */
  burst?: number;
  /**
   * The farthest ahead a job's slot is reserved, in milliseconds. A job whose slot would be
   * farther is put back without one, until a slot comes within reach. `false`: nothing is
   * reserved, a job over the rate comes back when a start would be granted (in no order).
   * Default 1 hour.
   */
  wait?: false | number;
}

/** What `rateLimitedProcessor()` takes: the backend that keeps the rates, and the rate. */
export interface RateJobOptions<DataType = unknown, NameType extends string = string> {
  /** The store that keeps the rate: memory (one process), Redis or PostgreSQL. */
  backend: LockBackend;
  /** The rate, and what it is kept per. */
  rate: JobRate<DataType, NameType>;
}

const where = at('rateLimitedProcessor()');
const outer = { backend: object<LockBackend>('an oncelock backend').required(), rate: object().required() };
const inner = {
  key: jobKey(true),
  ...rateOptions,
  // A job waits in the delayed set, holding no worker: reserve far ahead by default.
  wait: wait().default(3_600_000),
};

/** A read rate policy: the backend, and the rate with its defaults. */
export type RatePolicy<DataType, NameType extends string> = {
  readonly backend: LockBackend;
} & Readonly<Omit<Read<typeof inner>, 'key'>> & { readonly key: JobKey<DataType, NameType> };

/**
 * Reads the options of `rateLimitedProcessor()`: `InvalidArgumentError` for bad input, and
 * `CapabilityUnsupportedError` for a backend that keeps no rates (Redlock, Keyv), before any
 * round trip.
 */
export function ratePolicyOf<DataType, NameType extends string>(
  options: RateJobOptions<DataType, NameType>,
): RatePolicy<DataType, NameType> {
  const { backend, rate } = readOptions(options, outer, where, true);
  checkBackend(backend);
  const read = readOptions(rate, inner, at('rateLimitedProcessor() rate'), true);
  checkRateLimits(backend);
  return { ...read, backend, key: read.key as JobKey<DataType, NameType> };
}
