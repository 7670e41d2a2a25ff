import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WaitTimeoutError } from '@oncelock/core';
import { spawnWorker, type Worker } from '@oncelock/testkit/faults';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type ArmName, JOB, type TenantJob, type WorkerConfig, type WorkerNote } from './config.js';
import { gauge } from './gauge.js';
import { type RunOptions, tenantNames } from './options.js';

const script = fileURLToPath(new URL('./worker-process.js', import.meta.url));
const PKG = '@oncelock/app-tenant-limits';

/** What one arm measured. */
export interface ArmResult {
  /** Per tenant: the most of its jobs that ran at once. */
  mostAtOnce: Record<string, number>;
  /** Per tenant: ms from the flood's start until its first job started. */
  firstStartMs: Record<string, number | null>;
  /** Jobs whose work started (each job once, when all is well). */
  jobsRun: number;
  failed: number;
  /** Times a job over the limit was put back as delayed (no attempt spent). */
  putBacks: number;
  /** From the flood's start until every job had ended (polled every 50 ms). */
  tookMs: number;
  firstFailure?: string;
}

/**
 * One arm: `workers` worker processes on a fresh queue; every tenant floods it with its jobs, one
 * tenant after another; then the tenants' gauges say how many of their jobs ran at once.
 */
export async function runArm(arm: ArmName, o: RunOptions): Promise<ArmResult> {
  const name = `tenant-limits-${arm}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<TenantJob>(name, { connection });
  const gauges = gauge(connection, name);
  const tenants = tenantNames(o);
  const config: WorkerConfig = {
    queue: name,
    redisUrl: o.redisUrl,
    concurrency: o.concurrency,
    jobMs: o.jobMs,
    gauge: name,
    ...(arm === 'withLimit' && { permits: { limit: o.limit, store: o.store, postgresUrl: o.postgresUrl } }),
  };
  const workers = Array.from({ length: o.workers }, () => spawnWorker(script, [JSON.stringify(config)]));
  try {
    await Promise.all(workers.map((w) => ready(w)));
    const floodAt = await gauges.now();
    const began = performance.now();
    for (const tenant of tenants)
      await queue.addBulk(Array.from({ length: o.jobs }, () => ({ name: JOB, data: { tenant } })));
    const total = o.jobs * tenants.length;
    for (;;) {
      const c = await queue.getJobCounts('completed', 'failed');
      if ((c.completed ?? 0) + (c.failed ?? 0) >= total) break;
      if (performance.now() - began > o.maxMs)
        throw new WaitTimeoutError(`every job of the ${arm} arm to end`, o.maxMs, { pkg: PKG });
      await sleep(50);
    }
    const tookMs = Math.round(performance.now() - began);
    const readings = await Promise.all(tenants.map((t) => gauges.read(t)));
    const done = await queue.getJobs(['completed', 'failed']);
    const failed = done.filter((j) => j.failedReason);
    return {
      mostAtOnce: Object.fromEntries(tenants.map((t, i) => [t, readings[i]!.most])),
      firstStartMs: Object.fromEntries(
        tenants.map((t, i) => [t, readings[i]!.first === undefined ? null : readings[i]!.first! - floodAt]),
      ),
      jobsRun: readings.reduce((n, r) => n + r.runs, 0),
      failed: failed.length,
      // BullMQ counts the attempt that ended; a put-back job was started but made no attempt.
      putBacks: done.reduce((n, j) => n + Math.max(0, (j.attemptsStarted ?? 0) - j.attemptsMade), 0),
      tookMs,
      ...(failed[0] && { firstFailure: failed[0].failedReason }),
    };
  } finally {
    await stopAll(workers);
    await queue.obliterate({ force: true }).catch(() => {}); // the run's own queue: nothing else uses it
    await gauges.clear(tenants).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}

/** Waits for a worker process's BullMQ worker to connect; one that dies first names its output. */
async function ready(w: Worker): Promise<void> {
  try {
    await w.next((m) => (m as WorkerNote).type === 'ready', 30_000);
  } catch (cause) {
    throw new Error(`worker process ${w.pid} did not start: ${w.output.trim() || String(cause)}`, { cause });
  }
}

/** Each worker finishes the jobs it runs, then exits; one that does not is stopped. */
async function stopAll(workers: readonly Worker[]): Promise<void> {
  for (const w of workers) await w.send({ type: 'stop' }).catch(() => {});
  await Promise.all(workers.map((w) => Promise.race([w.exited, sleep(10_000, undefined, { ref: false })])));
  await Promise.all(workers.map((w) => w.stop()));
}
