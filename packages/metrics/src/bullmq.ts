import { QUEUE_STATES, type QueueStats, queueStats } from '@oncelock/bullmq';
import type { Queue } from 'bullmq';
import { Counter, Gauge, type Metric, type Registry, register } from 'prom-client';
import { registerAll } from './register.js';

/** Options of {@link queueMetrics}. */
export interface QueueMetricsOptions {
  /** The BullMQ queues to report. */
  queues: readonly Queue[];
  /** Default: prom-client's global `register`. */
  registry?: Registry;
  /** The longest a scrape waits for one queue, in ms; a queue that does not answer counts an error. Default 1000. */
  timeout?: number;
}

/** What {@link queueMetrics} returns. */
export interface QueueMetrics {
  /** Removes the gauges from the registry. */
  stop(): void;
}

/**
 * Gauges of BullMQ queues, read on scrape with one round trip per queue (all queues at once),
 * each bounded by `timeout`: `oncelock_queue_jobs{queue,state}`,
 * `oncelock_queue_oldest_waiting_seconds{queue}` (the age of the job at the head of the wait
 * list: Sidekiq's "queue latency"), and `oncelock_queue_collection_errors_total{queue}`.
 * A queue that cannot be read is left out of that scrape; the others are reported.
 *
 * @param options - The `queues` (required), the registry (default: prom-client's global
 *   `register`) and the `timeout` per queue in milliseconds (default 1000).
 */
export function queueMetrics(options: QueueMetricsOptions): QueueMetrics {
  const registry = options.registry ?? register;
  const timeout = options.timeout ?? 1000;
  const none: Registry[] = [];
  // Both gauges are collected in the same scrape: they share one read of every queue.
  let inflight: Promise<Array<[Queue, QueueStats | undefined]>> | undefined;
  const read = () => {
    inflight ??= Promise.all(
      options.queues.map(async (q): Promise<[Queue, QueueStats | undefined]> => {
        try {
          return [q, await queueStats(q, { timeout })];
        } catch {
          errors.inc({ queue: q.name });
          return [q, undefined];
        }
      }),
    ).finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
  const errors = new Counter({
    name: 'oncelock_queue_collection_errors_total',
    help: 'Scrapes in which a queue could not be read within the timeout.',
    labelNames: ['queue'],
    registers: none,
    // Collected with the gauges, so that this scrape's errors are in this scrape.
    async collect() {
      await read();
    },
  });
  const jobs = new Gauge({
    name: 'oncelock_queue_jobs',
    help: 'Jobs in a BullMQ queue, by state.',
    labelNames: ['queue', 'state'],
    registers: none,
    async collect() {
      const read_ = await read();
      this.reset();
      for (const [q, stats] of read_) {
        if (!stats) continue;
        for (const state of QUEUE_STATES) this.set({ queue: q.name, state }, stats.counts[state]);
      }
    },
  });
  const oldest = new Gauge({
    name: 'oncelock_queue_oldest_waiting_seconds',
    help: 'Age of the oldest waiting job of a BullMQ queue (0 when none waits), on the Redis clock.',
    labelNames: ['queue'],
    registers: none,
    async collect() {
      const read_ = await read();
      this.reset();
      for (const [q, stats] of read_)
        if (stats) this.set({ queue: q.name }, (stats.oldestWaitingAge ?? 0) / 1000);
    },
  });
  const metrics: Metric[] = [jobs, oldest, errors];
  const unregister = registerAll(registry, metrics);
  return {
    stop() {
      unregister();
    },
  };
}
