// oncelock with BullMQ: one policy for the producer and the worker.
// #region policy
import {
  drainBacklog,
  type OnceJobOptions,
  onceProcessor,
  onceQueue,
} from '@oncelock/bullmq';
import { redisBackend } from '@oncelock/redis';
import { Queue, Worker } from 'bullmq';

// The queue's Redis, as BullMQ takes it.
const connection = { host: '127.0.0.1', port: 6379 };

type ScanData = { shard: number };

// Claims may live in the queue's Redis or anywhere else (PostgreSQL, for
// fences next to the data).
const backend = redisBackend({ url: 'redis://127.0.0.1:6379' });

// The same object goes to the producer and the worker, so both compute
// the same keys.
const policy: OnceJobOptions<ScanData> = {
  backend,
  // put in front: the queue's prefix and name
  key: (_name, data) => `shard:${data.shard}`,
  mode: 'untilDone', // at most one scan per shard queued or running
  // the running claim; at most half the worker's lockDuration (30 s by
  // default)
  ttl: 15_000,
};
// #endregion policy

// #region producer
const scans = onceQueue(
  new Queue<ScanData>('scans', { connection }),
  policy,
);

export async function scheduleScans(): Promise<void> {
  for (const shard of [1, 2, 3]) {
    const r = await scans.add('scan', { shard });
    if (r.status === 'cancelled')
      console.log(
        `shard ${shard}: already queued or running as ${r.existingJobId}`,
      );
  }
}
// #endregion producer

// #region worker
export const worker = new Worker(
  'scans',
  onceProcessor<ScanData, number>(async (job, _token, signal, claim) => {
    // signal: fires if the claim is lost or BullMQ cancels the job.
    // claim.fence: for the writes.
    return scanShard(job.data.shard, claim.fence, signal);
  }, policy),
  { connection },
);
// #endregion worker

// #region drain
// At most one drain job running and one waiting; a full batch enqueues
// its successor itself.
const backfill = new Queue('backfill', { connection });
const drain = drainBacklog(backfill, {
  backend,
  batchSize: 500,
  batch: (_job, size, claim) => copyRows(size, claim.fence, claim.signal),
});
export const drainWorker = new Worker('backfill', drain.processor, {
  connection,
});
export const everyMinute = setInterval(() => {
  drain
    .trigger('backfill', {})
    .catch((error: unknown) => console.error('trigger failed', error));
}, 60_000);
// #endregion drain

async function scanShard(
  shard: number,
  fence: number,
  signal: AbortSignal,
): Promise<number> {
  signal.throwIfAborted();
  return shard + fence;
}
async function copyRows(
  size: number,
  _fence: number,
  signal: AbortSignal,
): Promise<number> {
  signal.throwIfAborted();
  return size;
}
