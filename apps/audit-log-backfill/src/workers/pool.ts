import { spawnWorker, type Worker } from '@oncelock/testkit/faults';
import type { Metrics } from '../metrics.js';
import type { WorkerNote } from './note.js';

/** Worker processes started by {@link startPool}. */
export interface WorkerPool {
  /** Asks each process to finish its work and exit; kills any still running after 10 s. */
  close(): Promise<void>;
}

/**
 * Starts `n` child processes running `script` with `config` (as JSON, their one argument), feeds
 * their job reports into `metrics`, and resolves once each says it is ready.
 *
 * @param script - The built worker script.
 * @param config - What each process needs.
 * @param n - How many processes.
 * @param metrics - Where their job reports go.
 */
export async function startPool(
  script: string,
  config: unknown,
  n: number,
  metrics: Metrics,
): Promise<WorkerPool> {
  const workers: Worker[] = Array.from({ length: n }, () => spawnWorker(script, [JSON.stringify(config)]));
  const listening = workers.map((w) => listen(w, metrics));
  try {
    await Promise.all(workers.map((w) => w.next((m) => (m as WorkerNote).type === 'ready', 30_000)));
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop()));
    throw error;
  }
  return {
    async close() {
      // Each worker finishes the job (or pass) it runs, then exits.
      for (const w of workers) await w.send({ type: 'stop' }).catch(() => {});
      await Promise.all(workers.map((w) => Promise.race([w.exited, sleepUnref(10_000)])));
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(listening);
    },
  };
}

/** Feeds one worker process's job reports into the metrics until it exits. */
async function listen(w: Worker, metrics: Metrics): Promise<void> {
  for (;;) {
    let m: Extract<WorkerNote, { type: 'job' }>;
    try {
      m = await w.next<typeof m>((x) => (x as WorkerNote).type === 'job', 3_600_000);
    } catch {
      return; // exited
    }
    metrics.job(m.report);
  }
}

const sleepUnref = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });
