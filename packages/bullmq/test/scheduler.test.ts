import { delay } from '@oncelock/testkit';
import { redisUrl } from '@oncelock/testkit/servers';
import { expect, it } from 'vitest';
import {
  checkedHistory,
  type Report,
  reports,
  startWorkers,
  type WorkerConfig,
  withWorkerProcesses,
} from './processes.js';
import { queueName, until } from './support.js';

// The one slow test: a job scheduler fires every second while every worker is stopped for a
// real minute. It checks, once a second, that no more than one job waits, and that when workers
// come back exactly one of the jobs due during the outage runs.

const t = withWorkerProcesses();

/** A scheduler's job id ends with the time it was due. */
const dueAt = (id: string | undefined): number => Number(id?.split(':').at(-1));

it('a scheduler firing every second while all workers are stopped for a minute leaves one job, and one run', async () => {
  const name = queueName('scheduler');
  const queue = t.bench.queue(name);
  const config: WorkerConfig & { history: string } = {
    queue: name,
    lock: { kind: 'redis', url: redisUrl },
    policy: { mode: 'untilDone', ttl: 400, retryDelay: 50 },
    worker: { concurrency: 2, lockDuration: 1_000, stalledInterval: 300 },
    history: t.history,
  };
  const before = await startWorkers(2, config);
  await queue.upsertJobScheduler(
    'every-second',
    { every: 1_000 },
    {
      name: 'step',
      data: { key: 'tick', steps: 1, stepMs: 20, store: `${name}:store` },
    },
  );
  await until(() => reports(before, 'end').length >= 2, 15_000, 'the scheduler’s jobs to run');

  // Every worker stops (a graceful close: nothing is left running), for a minute.
  await Promise.all(before.map((child) => child.stop(10_000)));
  const outageStart = Date.now();
  let mostQueued = 0;
  let samples = 0;
  while (Date.now() - outageStart < 60_000) {
    const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
    mostQueued = Math.max(
      mostQueued,
      (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
    );
    expect(counts.active).toBe(0);
    samples++;
    await delay(1_000);
  }
  const outageEnd = Date.now();

  const after = await startWorkers(2, config);
  await delay(3_000);
  await queue.removeJobScheduler('every-second');
  const runsAfter = reports(after, 'start');
  const fromOutage = runsAfter.filter((r: Report) => dueAt(r.id) >= outageStart && dueAt(r.id) < outageEnd);
  const fromBefore = runsAfter.filter((r: Report) => dueAt(r.id) < outageStart);

  expect(samples).toBeGreaterThanOrEqual(55);
  expect(mostQueued).toBe(1);
  expect(fromOutage).toHaveLength(1);
  expect(fromBefore).toEqual([]);
  expect(runsAfter.length).toBeGreaterThanOrEqual(2); // the scheduler carries on once a second
  const { unfenced } = checkedHistory(t.history);
  expect(unfenced.holdOverlaps).toEqual([]);
}, 150_000);
