import { type LockBackend, type Singleton, singleton } from '@oncelock/core';
import type { ArmContext } from './arm.js';
import { reportedBatch } from './arm.js';

/** A loop name no other run (or test file) shares: the lease's key and the wake-ups' topic. */
export function loopName(): string {
  return `audit-log-backfill-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The third arm: no queue at all. Every worker runs the same `singleton` loop; the one that holds
 * its lease runs batches back to back while they come back full (`'more'`), then sleeps until its
 * interval or a wake-up. The others wait to take over. One batch runs at a time, so no row is
 * rendered twice.
 *
 * @param backend - The store the workers share for the lease and the wake-ups.
 * @param name - The loop's name (see loopName).
 * @param ctx - The table, the batch settings and where reports go.
 * @param intervalMs - How long the leader sleeps after an empty or short batch, unless woken.
 */
export function startLoop(
  backend: LockBackend,
  name: string,
  ctx: Pick<ArmContext, 'table' | 'settings' | 'report'>,
  intervalMs: number,
): Singleton {
  return singleton(
    backend,
    name,
    async () => ((await reportedBatch(ctx)).full ? 'more' : 'idle'),
    // A failed batch is reported by reportedBatch already; the loop goes on after its interval.
    { interval: intervalMs, ttl: 10_000, onError: () => {} },
  );
}
