import { setTimeout as sleep } from 'node:timers/promises';
import type { ArmResult, Metrics } from './metrics.js';
import type { AuditTable } from './table/table.js';
import type { Workload } from './workload.js';

/** An arm wired to a queue and its workers (in this process, or BullMQ and worker processes). */
export interface Runtime {
  /** The periodic trigger fired: resolves `true` if a job was put on the queue. None: the arm has no trigger. */
  trigger?(): Promise<boolean>;
  /** A wave of rows has landed in the table (the loop arm wakes its leader, as the inserting code would). */
  arrived?(): Promise<void>;
  /** Jobs waiting (ready or delayed). */
  queueLength(): Promise<number>;
  /** No job waiting or running. */
  idle(): Promise<boolean>;
  /** Stops the workers and frees connections. */
  close(): Promise<void>;
}

export interface RunSettings {
  triggerMs: number;
  maxMs: number;
  /** How often queue length and backlog are sampled for the chart. */
  sampleMs: number;
}

/**
 * Plays `workload` against one arm: the backlog is in the table at the start, the arrivals land
 * on schedule, the trigger fires every `triggerMs`. Ends once every row has its repr and the
 * queue is idle, or after `maxMs`.
 */
export async function runArm(
  s: RunSettings,
  table: AuditTable,
  workload: Workload,
  metrics: Metrics,
  start: () => Promise<Runtime>,
): Promise<ArmResult> {
  await table.reset();
  await table.append(workload.backlog);
  const runtime = await start();
  metrics.begin();
  let stopped = false;
  let arrivalsDone = workload.waves.length === 0;
  const t0 = performance.now();
  const until = async (ms: number) => {
    const wait = t0 + ms - performance.now();
    if (wait > 0) await sleep(wait);
  };
  const fail = (error: unknown) => metrics.job({ processed: [], outcome: 'failed', error: String(error) });

  const trigger = (async () => {
    const fire = runtime.trigger?.bind(runtime);
    for (let tick = 0; !stopped && fire; tick++) {
      metrics.triggers++;
      const added = await fire().catch((error: unknown) => {
        fail(error);
        return false;
      });
      if (!added) metrics.skippedTriggers++;
      await until((tick + 1) * s.triggerMs);
    }
  })();

  const arrivals = (async () => {
    for (const wave of workload.waves) {
      await until(wave.atMs);
      if (stopped) return;
      await table.append(wave.rows);
      await runtime.arrived?.().catch(fail);
    }
    arrivalsDone = true;
  })();

  try {
    for (let tick = 1; ; tick++) {
      await until(tick * s.sampleMs);
      const [length, counts, idle] = await Promise.all([
        runtime.queueLength(),
        table.counts(),
        runtime.idle(),
      ]);
      metrics.queued(length);
      metrics.backlog(counts.rows - counts.filled, arrivalsDone);
      if ((metrics.drainMs !== null && idle) || metrics.elapsed() > s.maxMs) break;
    }
  } finally {
    stopped = true;
    await Promise.all([trigger, arrivals]);
    await runtime.close();
  }
  return metrics.result(await table.counts());
}
