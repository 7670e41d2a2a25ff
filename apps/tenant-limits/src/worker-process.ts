import { setTimeout as sleep } from 'node:timers/promises';
import { type LockBackend, onceProcessor } from '@oncelock/bullmq';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { type Job, type Processor, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { perTenant, type TenantJob, type WorkerConfig, type WorkerNote } from './config.js';
import { gauge } from './gauge.js';

// One worker process: a BullMQ Worker with `concurrency` slots. Without permits it runs whatever
// it takes; with them, each job runs under one of its tenant's permits.

const c = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
const note = (m: WorkerNote) => process.send?.(m);
const connection = new Redis(c.redisUrl, { maxRetriesPerRequest: null });
const tenants = gauge(connection, c.gauge);

function permitStore(p: NonNullable<WorkerConfig['permits']>): LockBackend {
  if (p.store === 'redis') return redisBackend({ url: c.redisUrl });
  // Table mode sends release notifications only over a direct connection given as `listen`.
  return postgresBackend({ connectionString: p.postgresUrl, mode: 'table', listen: p.postgresUrl });
}
const backend = c.permits && permitStore(c.permits);

/** The job's work: a sleep standing for a call to the tenant's provider, counted in and out. */
async function work(job: Job<TenantJob>, signal?: AbortSignal): Promise<void> {
  await tenants.in(job.data.tenant);
  try {
    // A job whose permit is lost stops: the signal fires and the sleep rejects.
    await sleep(c.jobMs, undefined, { signal });
  } finally {
    await tenants.out(job.data.tenant);
  }
}

const processor: Processor<TenantJob> = backend
  ? onceProcessor<TenantJob, void>(
      (job, _token, signal) => work(job, signal),
      perTenant(backend, c.permits!.limit),
    )
  : (job) => work(job);
const worker = new Worker<TenantJob>(c.queue, processor, { connection, concurrency: c.concurrency });
// Connection trouble: BullMQ retries; a job it costs shows as failed in the report.
worker.on('error', (error) => console.error(error));

async function close(): Promise<void> {
  await worker.close();
  await backend?.close();
  connection.disconnect();
  note({ type: 'closed' });
  process.disconnect?.();
}

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'stop')
    close().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
});
process.on('disconnect', () => process.exit(0));
worker.waitUntilReady().then(
  () => note({ type: 'ready' }),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
