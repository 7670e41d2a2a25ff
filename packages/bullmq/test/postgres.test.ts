import { type OnceJobOptions, onceQueue } from '@oncelock/bullmq';
import { postgresBackend } from '@oncelock/postgres';
import { postgresUrl } from '@oncelock/testkit/servers';
import { expect, it } from 'vitest';
import { checkedHistory, reports, startWorkers, withWorkerProcesses } from './processes.js';
import { queueName, until } from './support.js';

// The queue lives in Redis, the claims in PostgreSQL: the lock store need not be the queue's.
// Table mode, because a claim made at add time must outlive the producer's session (in advisory
// mode a claim ends with the session of the process that made it).
type Data = { key: string; steps: number; stepMs: number; store: string };

const t = withWorkerProcesses();

it('untilDone with claims in PostgreSQL: one job per key from add to completion, across processes', async () => {
  const name = queueName('postgres');
  const queue = t.bench.queue(name);
  const policy = (backend: OnceJobOptions<Data>['backend']): OnceJobOptions<Data> => ({
    backend,
    key: (_n, data) => data.key,
    mode: 'untilDone',
    ttl: 1_000,
  });
  const data = { key: 'report', steps: 3, stepMs: 30, store: `${name}:store` };

  // A short-lived producer adds a job and exits; its claim stays with the job.
  const producer = postgresBackend({ connectionString: postgresUrl, mode: 'table' });
  const first = await onceQueue(queue, policy(producer)).add('step', data);
  await producer.close();
  if (first.status !== 'added') expect.fail('first add');

  const backend = postgresBackend({ connectionString: postgresUrl, mode: 'table' });
  try {
    const jobs = onceQueue(queue, policy(backend));
    expect(await jobs.add('step', data)).toEqual({
      status: 'cancelled',
      reason: 'locked',
      existingJobId: first.job.id,
    });
    expect(await queue.getWaitingCount()).toBe(1);

    const children = await startWorkers(2, {
      queue: name,
      lock: { kind: 'postgres', connectionString: postgresUrl, mode: 'table' },
      policy: { mode: 'untilDone', ttl: 1_000 },
      worker: { concurrency: 2, lockDuration: 2_000, stalledInterval: 500 },
      history: t.history,
    });
    await until(
      async () => (await queue.getJobState(first.job.id as string)) === 'completed',
      20_000,
      'the job to run',
    );
    expect(await backend.inspect(`${queue.qualifiedName}:report`)).toBeNull();

    const second = await jobs.add('step', data);
    if (second.status !== 'added') expect.fail('second add');
    await until(
      async () => (await queue.getJobState(second.job.id as string)) === 'completed',
      20_000,
      'the second job to run',
    );
    const fenceOf = (id: string | undefined) => reports(children, 'end').find((r) => r.id === id)?.fence;
    expect(fenceOf(second.job.id)).toBeGreaterThan(fenceOf(first.job.id) as number);
    const { fenced } = checkedHistory(t.history);
    expect(fenced.ok).toBe(true);
    expect(fenced.stats.accepted).toBe(6);
  } finally {
    await backend.close();
  }
});
