import { memoryBackend } from '@oncelock/core';
import type { ArmContext } from './arms/arm.js';
import { naiveArm } from './arms/naive.js';
import { oncelockArm } from './arms/oncelock.js';
import type { Metrics } from './metrics.js';
import type { QueueArm } from './options.js';
import { MemoryQueue } from './queue/memory-queue.js';
import type { Runtime } from './run-arm.js';
import type { AuditTable } from './table/table.js';

export interface EmbeddedSettings {
  workers: number;
  batch: number;
  rowCostMs: number;
  triggerMs: number;
}

/**
 * The embedded runtime: an in-process queue with async workers, and for the oncelock arm the
 * in-memory backend. Everything shares this process, as a prefork pool shares one Redis.
 */
export async function embeddedRuntime(
  name: QueueArm,
  s: EmbeddedSettings,
  table: AuditTable,
  metrics: Metrics,
): Promise<Runtime> {
  const backend = memoryBackend();
  const ctx: ArmContext = {
    table,
    settings: s,
    async add(id) {
      queue.add(id);
      metrics.jobsEnqueued++;
    },
    promote: async (id) => queue.promote(id),
    report: (r) => metrics.job(r),
  };
  const arm =
    name === 'naive' ? naiveArm(ctx) : oncelockArm(ctx, backend, Math.max(1, Math.ceil(s.triggerMs / 2)));
  const queue = new MemoryQueue(
    s.workers,
    (id) =>
      arm.process(id).catch((error: unknown) => {
        metrics.job({ processed: [], outcome: 'failed', error: String(error) });
        return undefined;
      }),
    (length) => metrics.queued(length, false),
  );
  return {
    trigger: () => arm.trigger(),
    queueLength: async () => queue.length,
    idle: async () => queue.length === 0 && queue.active === 0,
    async close() {
      await queue.close();
      await backend.close();
    },
  };
}
