import { type At, client, func, INVALID, Kind, type Option, readOptions } from '@oncelock/core/backend';
// Types only: a user who installed one of the two client libraries never loads the other.
import type { Meter } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Buckets } from './buckets.js';
import type { LockName } from './lock-name.js';

/** Upper bounds: finite numbers of seconds, strictly ascending, at least one. */
const bounds = new Kind<number[]>(
  'a list of upper bounds in seconds: finite numbers, strictly ascending, at least one',
  (v) =>
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > v[i - 1]))
      ? [...v]
      : INVALID,
);
const bucketSpec = { acquire: bounds, hold: bounds, rateDelay: bounds, loopPass: bounds };

/** `buckets`: an object of bound lists by histogram, each checked (a misspelt histogram is refused). */
const buckets: Option<Buckets | undefined> = {
  expects: `an object with ${Object.keys(bucketSpec).join(', ')}`,
  read(value, name, at) {
    if (value === undefined) return undefined;
    return readOptions(value, bucketSpec, { ...at, call: `${at.call} ${name}` }, true);
  },
};

const name = func<LockName>('a function from a key to its lock name');

/** The options of `prometheusMetrics()`. */
export const prometheusSpec = {
  registry: client<Registry>('a prom-client Registry', [
    'registerMetric',
    'getSingleMetric',
    'removeSingleMetric',
  ]),
  name,
  buckets,
};

/** The options of `openTelemetryMetrics()`. */
export const openTelemetrySpec = {
  meter: client<Meter>('an OpenTelemetry Meter', [
    'createHistogram',
    'createCounter',
    'createObservableGauge',
  ]).required(),
  name,
  buckets,
};

/** Where a call's options are read, for its messages. */
export const at = (call: string): At => ({ pkg: '@oncelock/metrics', call });
