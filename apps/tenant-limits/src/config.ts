import type { LockBackend, OnceJobOptions } from '@oncelock/bullmq';
import type { Store } from './options.js';

/** The two arms, one after the other on the same flood. */
export const arms = ['withoutLimit', 'withLimit'] as const;
export type ArmName = (typeof arms)[number];

/** What every job carries. */
export interface TenantJob {
  tenant: string;
}

/** The job name every job carries. */
export const JOB = 'sync';

/** What a worker process needs, passed as its one argument (JSON). */
export interface WorkerConfig {
  queue: string;
  redisUrl: string;
  concurrency: number;
  jobMs: number;
  /** Prefix of the tenants' gauges (see gauge.ts). */
  gauge: string;
  /** The with-limit arm only: the limit per tenant and where its permits live. */
  permits?: { limit: number; store: Store; postgresUrl: string };
}

/**
 * The with-limit arm's policy, as in the BullMQ guide's "at most 5 per tenant" recipe: each
 * running job holds one of its tenant's `limit` permits, and a job over the limit is put back
 * (no attempt spent) and woken when a permit frees. `retryDelay` is only the fallback for a lost
 * wake-up, so it is long: a run that leaned on it would show in its time.
 */
export function perTenant(backend: LockBackend, limit: number): OnceJobOptions<TenantJob> {
  return {
    backend,
    key: (_name, data) => `tenant:${data.tenant}`,
    mode: 'whileRunning',
    limit,
    onConflict: 'delay',
    retryDelay: 10_000,
  };
}

/** Worker process to parent, over IPC. */
export type WorkerNote = { type: 'ready' } | { type: 'closed' };
