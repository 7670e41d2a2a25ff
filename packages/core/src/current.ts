import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lease } from './lease.js';

const store = new AsyncLocalStorage<Lease>();

/**
 * The lease that guards the code running now, inside `runOnceOrCancel`, `once(...).run` or
 * `withLease`; `undefined` elsewhere. It lets a wrapped function keep its own signature and
 * still stop when its lock is lost, or send the fence with its writes.
 *
 * @example
 * const sync = runOnceOrCancel(async () => {
 *   const { signal, fence } = currentLease()!;
 *   await copyRows({ signal, fence });
 * }, { backend, key: 'sync' });
 */
export function currentLease(): Lease | undefined {
  return store.getStore();
}

/** Runs `fn` with `lease` as the {@link currentLease}. */
export function withCurrentLease<T>(lease: Lease | undefined, fn: () => T): T {
  return lease ? store.run(lease, fn) : fn();
}
