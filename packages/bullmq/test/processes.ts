import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LockBackend } from '@oncelock/bullmq';
import { redisBackend } from '@oncelock/redis';
import { type Worker as Child, spawnWorker, stopAllWorkers } from '@oncelock/testkit/faults';
import { checkHistory, type HistoryReport, readHistory } from '@oncelock/testkit/history';
import { redisUrl } from '@oncelock/testkit/servers';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { Bench, connection, until } from './support.js';

const script = new URL('./fixtures/worker.mjs', import.meta.url);

/** What fixtures/worker.mjs reports. */
export interface Report {
  type: 'ready' | 'start' | 'end' | 'aborted' | 'batch' | 'worker-error';
  pid: number;
  id?: string;
  fence?: number;
  error?: string;
  size?: number;
}

export interface WorkerConfig {
  queue: string;
  lock:
    | { kind: 'redis'; url: string }
    | { kind: 'postgres'; connectionString: string; mode: 'table' | 'advisory'; listen?: string };
  policy: Record<string, unknown>;
  worker: Record<string, unknown>;
  drain?: { batchSize: number; list: string; done: string };
}

/**
 * Hooks for a test file that runs worker processes: each test gets a Bench (queues it obliterates)
 * and a fresh history file; afterwards every worker process is stopped and the file removed.
 */
export function withWorkerProcesses(): { readonly bench: Bench; readonly history: string } {
  let bench: Bench | undefined;
  let dir: string | undefined;
  beforeEach(() => {
    bench = new Bench();
    dir = mkdtempSync(join(tmpdir(), 'oncelock-bullmq-'));
  });
  afterEach(async () => {
    await stopAllWorkers();
    await bench?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get bench() {
      return bench as Bench;
    },
    get history() {
      return join(dir as string, 'history.jsonl');
    },
  };
}

/**
 * Hooks for a test file whose claims live in Redis: a fresh `redisBackend` per test, and one
 * plain connection for the file, to read what the workers wrote.
 */
export function withRedisLocks(): { readonly backend: LockBackend; readonly redis: Redis } {
  let backend: LockBackend | undefined;
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = new Redis(connection);
  });
  afterAll(() => redis?.quit());
  beforeEach(() => {
    backend = redisBackend({ url: redisUrl });
  });
  afterEach(() => backend?.close());
  return {
    get backend() {
      return backend as LockBackend;
    },
    get redis() {
      return redis as Redis;
    },
  };
}

/** Starts `n` worker processes and waits until each one's BullMQ worker is connected. */
export async function startWorkers(n: number, config: WorkerConfig & { history: string }): Promise<Child[]> {
  const children = Array.from({ length: n }, () => spawnWorker(script, [JSON.stringify(config)]));
  await Promise.all(children.map((c) => c.next((m) => (m as Report).type === 'ready', 20_000)));
  return children;
}

export const reports = (children: readonly Child[], type?: Report['type']): Report[] =>
  children.flatMap((c) => c.messages as Report[]).filter((m) => type === undefined || m.type === type);

/** The child whose processor has started a job and not yet ended it (one job of the key runs at a time). */
export async function childRunningAJob(
  children: readonly Child[],
  afterStarts = 1,
): Promise<{ child: Child; id: string }> {
  return until(
    () => {
      if (reports(children, 'start').length < afterStarts) return undefined;
      for (const child of children) {
        const mine = child.messages as Report[];
        const open = mine.filter(
          (m) =>
            m.type === 'start' &&
            !mine.some((e) => e.type !== 'start' && e.type !== 'ready' && e.id === m.id),
        );
        if (open.length > 0) return { child, id: open.at(-1)?.id as string };
      }
      return undefined;
    },
    15_000,
    'a worker process to be running a job',
  );
}

/** Reads the history the workers wrote and checks it both ways. */
export function checkedHistory(file: string): { fenced: HistoryReport; unfenced: HistoryReport } {
  const events = readHistory(file);
  return {
    fenced: checkHistory(events, { fenced: true }),
    unfenced: checkHistory(events, { fenced: false }),
  };
}
