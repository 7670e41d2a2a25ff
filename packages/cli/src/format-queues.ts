import { QUEUE_STATES } from '@oncelock/bullmq';
import type { NamedStats } from './commands/queues.js';
import { duration, table } from './format.js';

/** One row per queue: the counts in BullMQ's state order, then the oldest waiting job's age. */
export function queuesTable(stats: readonly NamedStats[]): string {
  const rows = stats.map((s) => [
    s.isPaused ? `${s.queue} (paused)` : s.queue,
    ...QUEUE_STATES.map((state) => String(s.counts[state])),
    s.oldestWaitingAge === null ? '-' : duration(s.oldestWaitingAge),
  ]);
  return table(['queue', ...QUEUE_STATES, 'oldest waiting'], rows, [
    'left',
    ...QUEUE_STATES.map(() => 'right' as const),
    'right',
  ]);
}
