import { fileURLToPath } from 'node:url';
import { drainBacklog } from '@oncelock/bullmq';
import { redisBackend } from '@oncelock/redis';
import { type JobType, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Metrics } from '../metrics.js';
import type { BackfillOptions, QueueArm } from '../options.js';
import type { Runtime } from '../run-arm.js';
import { startPool } from '../workers/pool.js';
import { type BullmqWorkerConfig, drainPolicy, JOB } from './config.js';

const script = fileURLToPath(new URL('../../dist/bullmq/worker-process.js', import.meta.url));
const waitingStates: JobType[] = ['wait', 'delayed', 'prioritized'];
const allStates: JobType[] = [...waitingStates, 'active', 'completed', 'failed'];

/**
 * The real runtime: a BullMQ queue on Redis, `o.workers` worker processes (prefork), and the
 * trigger here. For the oncelock arm the trigger and the workers share one `drainBacklog` policy,
 * with its claims in the same Redis.
 */
export async function bullmqRuntime(
  arm: QueueArm,
  o: BackfillOptions,
  schema: string,
  metrics: Metrics,
): Promise<Runtime> {
  const name = `backfill-${arm}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  const backend = arm === 'oncelock' ? redisBackend({ url: o.redisUrl }) : undefined;
  const config: BullmqWorkerConfig = {
    arm,
    queue: name,
    redisUrl: o.redisUrl,
    postgresUrl: o.postgresUrl,
    schema,
    batch: o.batch,
    rowCostMs: o.rowCostMs,
    // Retried soon enough to follow its predecessor closely; BullMQ adds some jitter.
    retryDelay: Math.max(10, Math.round(o.triggerMs / 2)),
  };
  const drain = backend
    ? drainBacklog(queue, { ...drainPolicy(backend, config), batch: async () => 0 }) // the trigger never runs a batch
    : undefined;
  const counts = async (states: JobType[]) =>
    Object.values(await queue.getJobCounts(...states)).reduce((a, b) => a + b, 0);
  const pool = await startPool(script, config, o.workers, metrics);
  return {
    async trigger() {
      if (!drain) {
        await queue.add(JOB, {});
        return true;
      }
      return (await drain.trigger(JOB, {})).status === 'added';
    },
    queueLength: () => counts(waitingStates),
    async idle() {
      return (await counts([...waitingStates, 'active'])) === 0;
    },
    async close() {
      await pool.close();
      // Every job ever added is still in the queue (completed and failed ones are kept).
      metrics.jobsEnqueued = await counts(allStates);
      await queue.obliterate({ force: true });
      await queue.close();
      await backend?.close();
      connection.disconnect();
    },
  };
}
