// BullMQ: at most 5 jobs per tenant running at once, across every worker.
// #region per-tenant
import {
  type LockBackend,
  type OnceJobOptions,
  onceProcessor,
  onceQueue,
} from '@oncelock/bullmq';
import { type ConnectionOptions, type Queue, Worker } from 'bullmq';

type Sync = { tenant: string; since: string };

export function perTenant(backend: LockBackend): OnceJobOptions<Sync> {
  return {
    backend,
    key: (_name, data) => `tenant:${data.tenant}`,
    mode: 'whileRunning', // a permit from start to end of each job
    limit: 5, // at most 5 jobs of a tenant run at once, in all workers
    onConflict: 'delay', // the 6th is put back, not dropped
    retryDelay: 30_000, // a freed permit wakes it; this is the fallback
  };
}

export function syncWorker(
  name: string,
  connection: ConnectionOptions,
  backend: LockBackend,
  sync: (data: Sync, fence: number, signal: AbortSignal) => Promise<void>,
): Worker<Sync> {
  const policy = perTenant(backend);
  return new Worker<Sync>(
    name,
    onceProcessor<Sync, void>(
      (job, _token, signal, claim) => sync(job.data, claim.fence, signal),
      policy,
    ),
    // more slots than the limit: other tenants' jobs use the rest
    { connection, concurrency: 20 },
  );
}

// Producers add as many as they like: every job runs, 5 at a time.
export function syncQueue(
  queue: Queue<Sync>,
  backend: LockBackend,
): (data: Sync) => Promise<unknown> {
  const jobs = onceQueue(queue, perTenant(backend));
  return (data) => jobs.add('sync', data);
}
// #endregion per-tenant
