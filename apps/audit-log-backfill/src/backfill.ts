import { embeddedRuntime } from './embedded.js';
import { loopRuntime } from './loop/runtime.js';
import { type ArmResult, Metrics } from './metrics.js';
import type { ArmName, BackfillOptions } from './options.js';
import { runArm } from './run-arm.js';
import { memoryTable } from './table/memory-table.js';
import type { AuditTable } from './table/table.js';
import { generateWorkload, type Workload } from './workload.js';

export interface BackfillRun {
  workload: Workload;
  results: Partial<Record<ArmName, ArmResult>>;
}

/** Runs each arm in turn on the same workload and the same kind of table and queue. */
export async function runBackfill(o: BackfillOptions): Promise<BackfillRun> {
  const workload = generateWorkload(o);
  const results: BackfillRun['results'] = {};
  // pg, ioredis and BullMQ are loaded only when asked for: the embedded demo starts without them.
  const pg = o.store === 'postgres' ? await import('./table/postgres-table.js') : undefined;
  const schema = pg?.runSchema();
  if (pg && schema) await pg.createSchema(o.postgresUrl, schema);
  // Workers, the sampler and the arrivals each need a connection at once.
  const table: AuditTable =
    pg && schema ? pg.postgresTable(o.postgresUrl, schema, o.workers + 3) : memoryTable();
  try {
    for (const arm of o.arms) {
      const metrics = new Metrics();
      const start =
        arm === 'loop'
          ? () => loopRuntime(o, table, metrics, schema)
          : o.queue === 'bullmq' && schema
            ? async () => (await import('./bullmq/runtime.js')).bullmqRuntime(arm, o, schema, metrics)
            : () => embeddedRuntime(arm, o, table, metrics);
      results[arm] = await runArm(
        { triggerMs: o.triggerMs, maxMs: o.maxMs, sampleMs: o.store === 'postgres' ? 50 : 20 },
        table,
        workload,
        metrics,
        start,
      );
    }
  } finally {
    await table.close();
    if (pg && schema) await pg.dropSchema(o.postgresUrl, schema);
  }
  return { workload, results };
}
