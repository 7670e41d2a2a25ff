import { drainBacklog } from '@oncelock/bullmq';
import { redisBackend } from '@oncelock/redis';
import { DelayedError, type Processor, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { reportedBatch } from '../arms/arm.js';
import type { JobReport } from '../metrics.js';
import { postgresTable } from '../table/postgres-table.js';
import { note, serveParent } from '../workers/note.js';
import { type BullmqWorkerConfig, drainPolicy, JOB } from './config.js';

// One prefork worker: a child process with a BullMQ Worker that runs one job at a time and
// reports each job to the demo over IPC.

const c = JSON.parse(process.argv[2] ?? '') as BullmqWorkerConfig;
const connection = new Redis(c.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(c.queue, { connection });
const table = postgresTable(c.postgresUrl, c.schema, 1);
const backend = c.arm === 'oncelock' ? redisBackend({ url: c.redisUrl }) : undefined;
const ctx = {
  table,
  settings: { batch: c.batch, rowCostMs: c.rowCostMs },
  report: (report: JobReport) => note({ type: 'job', report }),
};

// naive: what a periodic trigger plus a self-requeueing job look like without oncelock.
async function naive(): Promise<void> {
  if ((await reportedBatch(ctx)).full) await queue.add(JOB, {});
}

const drain = backend
  ? drainBacklog(queue, { ...drainPolicy(backend, c), batch: async () => (await reportedBatch(ctx)).filled })
  : undefined;

const processor: Processor = drain
  ? async (job, token, signal) => {
      try {
        const r = await drain.processor(job as never, token, signal);
        // A job that found another already waiting completes as cancelled: it did nothing.
        if ((r as { status?: string }).status === 'cancelled')
          note({ type: 'job', report: { processed: [], outcome: 'empty' } });
        return r;
      } catch (error) {
        // Its predecessor still runs: put back as delayed, as `busy`.
        if (error instanceof DelayedError) note({ type: 'job', report: { processed: [], outcome: 'busy' } });
        throw error;
      }
    }
  : naive;
const worker = new Worker(c.queue, processor, { connection, concurrency: 1 });
worker.on('error', () => {}); // connection trouble: BullMQ retries; the demo's figures show the effect

serveParent(worker.waitUntilReady(), async () => {
  await worker.close();
  await Promise.allSettled([queue.close(), table.close(), backend?.close()]);
  connection.disconnect();
});
