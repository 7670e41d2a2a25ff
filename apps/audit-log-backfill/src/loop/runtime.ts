import { fileURLToPath } from 'node:url';
import { type LockBackend, memoryBackend, wakeSingleton } from '@oncelock/core';
import { loopName, startLoop } from '../arms/loop.js';
import type { Metrics } from '../metrics.js';
import type { BackfillOptions } from '../options.js';
import type { Runtime } from '../run-arm.js';
import type { AuditTable } from '../table/table.js';
import { startPool } from '../workers/pool.js';
import { type LoopWorkerConfig, loopStore } from './config.js';

const script = fileURLToPath(new URL('../../dist/loop/worker-process.js', import.meta.url));

/**
 * The loop arm's runtime: `o.workers` workers run one singleton loop, and nothing is queued. The
 * loop polls every `triggerMs` on its own, so there is no trigger; each wave of new rows wakes
 * it, as the code that inserts them would. With `--queue bullmq` (worker processes) the workers
 * are child processes with the lease and wake-ups on PostgreSQL; otherwise they are loops in this
 * process on the in-memory backend.
 *
 * @param o - The run's options.
 * @param table - The table, for in-process workers.
 * @param metrics - Where the passes are reported.
 * @param schema - The run's PostgreSQL schema, in process mode.
 */
export async function loopRuntime(
  o: BackfillOptions,
  table: AuditTable,
  metrics: Metrics,
  schema: string | undefined,
): Promise<Runtime> {
  const name = loopName();
  const intervalMs = o.triggerMs;
  let backend: LockBackend;
  let close: () => Promise<void>;
  if (o.queue === 'bullmq' && schema) {
    const { postgresBackend } = await import('@oncelock/postgres');
    const config: LoopWorkerConfig = {
      name,
      postgresUrl: o.postgresUrl,
      schema,
      batch: o.batch,
      rowCostMs: o.rowCostMs,
      intervalMs,
    };
    const pool = await startPool(script, config, o.workers, metrics);
    backend = postgresBackend(loopStore(o.postgresUrl));
    close = () => pool.close();
  } else {
    backend = memoryBackend();
    const ctx = { table, settings: o, report: (r: Parameters<Metrics['job']>[0]) => metrics.job(r) };
    const loops = Array.from({ length: o.workers }, () => startLoop(backend, name, ctx, intervalMs));
    close = async () => {
      await Promise.all(loops.map((l) => l.stop()));
    };
  }
  return {
    arrived: () => wakeSingleton(backend, name),
    queueLength: async () => 0,
    // Nothing waits; a pass in progress when the run ends finishes as the loops stop.
    idle: async () => true,
    async close() {
      await close();
      await backend.close();
    },
  };
}
