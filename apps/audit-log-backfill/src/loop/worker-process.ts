import { postgresBackend } from '@oncelock/postgres';
import { startLoop } from '../arms/loop.js';
import type { JobReport } from '../metrics.js';
import { postgresTable } from '../table/postgres-table.js';
import { note, serveParent } from '../workers/note.js';
import { type LoopWorkerConfig, loopStore } from './config.js';

// One worker of the loop arm: a child process that runs the fleet's singleton loop on PostgreSQL
// (no queue, no Redis) and reports each pass to the demo over IPC, as a job.

const c = JSON.parse(process.argv[2] ?? '') as LoopWorkerConfig;
const table = postgresTable(c.postgresUrl, c.schema, 1);
const backend = postgresBackend(loopStore(c.postgresUrl));
const loop = startLoop(
  backend,
  c.name,
  {
    table,
    settings: { batch: c.batch, rowCostMs: c.rowCostMs },
    report: (report: JobReport) => note({ type: 'job', report }),
  },
  c.intervalMs,
);

serveParent(Promise.resolve(), async () => {
  // The pass in progress finishes; the lease is released for the next leader.
  await loop.stop();
  await Promise.allSettled([table.close(), backend.close()]);
});
