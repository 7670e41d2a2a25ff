import { pgCounter } from './pg-counter.js';
import { redisCounter } from './redis-counter.js';
import type { CounterSpec, FencedCounter } from './types.js';

export { counterTablesSql } from './pg-counter.js';
export type { CounterSpec, CounterState, FencedCounter } from './types.js';

/** Connects to the counter store of `spec` as `name` (a client name the store can see). */
export function openCounter(spec: CounterSpec, name: string): Promise<FencedCounter> {
  return spec.kind === 'redis'
    ? redisCounter(spec.url, name)
    : pgCounter(spec.connectionString, spec.schema, name);
}
