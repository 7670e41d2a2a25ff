import { randomUUID } from 'node:crypto';
import { type LockBackend, memoryBackend, type OnceJobOptions } from '@oncelock/bullmq';
import { delay } from '@oncelock/testkit';
import { redisConnection } from '@oncelock/testkit/servers';
import { type Processor, Queue, Worker, type WorkerOptions } from 'bullmq';
import { afterEach, beforeEach, expect } from 'vitest';

export const connection = redisConnection();

/** A queue name no other test (or test run) uses. */
export const queueName = (label: string): string => `oncelock-${label}-${randomUUID().slice(0, 8)}`;

/** Real queues and workers on the local Redis; `close()` stops the workers and obliterates the queues. */
export class Bench {
  readonly queues: Queue[] = [];
  readonly workers: Worker[] = [];
  /** Errors workers emitted; a test that expects none checks this is empty. */
  readonly workerErrors: Error[] = [];

  queue(name: string): Queue {
    const q = new Queue(name, { connection });
    this.queues.push(q);
    return q;
  }

  // Short stall checks and locks keep the tests that kill or freeze workers fast.
  worker(name: string, processor: Processor, opts: Partial<WorkerOptions> = {}): Worker {
    const w = new Worker(name, processor, { connection, concurrency: 4, ...opts });
    // BullMQ emits 'error' (an EventEmitter error) when, for instance, a lock cannot be renewed.
    w.on('error', (error) => this.workerErrors.push(error));
    this.workers.push(w);
    return w;
  }

  async close(): Promise<void> {
    openGates();
    await Promise.all(this.workers.map((w) => w.close()));
    for (const q of this.queues) {
      await q.obliterate({ force: true });
      await q.close();
    }
  }
}

/** Polls `probe` until it returns something other than `undefined`/`false`, or fails the test. */
export async function until<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) expect.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}

const gates = new Set<() => void>();

/**
 * A promise with its resolve function, to hold a processor open until the test lets it go.
 * `openGates()` (after each test) opens any that a failed test left shut, so workers can close.
 */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  gates.add(open);
  return { promise, open };
}

export function openGates(): void {
  for (const open of gates) open();
  gates.clear();
}

/**
 * Hooks for an in-process test file: each test gets a Bench and a fresh memory backend (handed to
 * `use`), and both are closed after it.
 */
export function eachTest(use: (bench: Bench, backend: LockBackend) => void): void {
  let current: { bench: Bench; backend: LockBackend } | undefined;
  beforeEach(() => {
    current = { bench: new Bench(), backend: memoryBackend() };
    use(current.bench, current.backend);
  });
  afterEach(async () => {
    await current?.bench.close();
    await current?.backend.close();
  });
}

/** The jobs of the in-process tests: a scan of one shard, keyed by it. */
export type Scan = { shard: number; note?: string; n?: number };

export const scanPolicy = (
  backend: LockBackend,
  extra: Partial<OnceJobOptions<Scan>> = {},
): OnceJobOptions<Scan> => ({
  backend,
  key: (_name, data) => `scan:${data.shard}`,
  ...extra,
});
