// Options are refused before any round trip, with messages that name this package and the
// option's real kind; unknown names are refused with the closest known one.
import {
  drainBacklog,
  InvalidArgumentError,
  memoryBackend,
  onceProcessor,
  onceQueue,
} from '@oncelock/bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { Bench, queueName, scanPolicy } from './support.js';

// No round trip is made to the lock store, so one backend and one bench serve every test.
const bench = new Bench();
const backend = memoryBackend();
afterAll(() => bench.close());
const policy = (extra: Parameters<typeof scanPolicy>[1] = {}) => scanPolicy(backend, extra);

function refusal(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as Error;
  }
  return expect.fail('expected InvalidArgumentError');
}

describe('policy options', () => {
  it('retryDelay and addTimeout are durations, reported by @oncelock/bullmq', () => {
    const queue = bench.queue(queueName('durations'));
    const late = refusal(() => onceQueue(queue, policy({ retryDelay: -5 })));
    expect(late.message).toMatch(
      /^\[@oncelock\/bullmq\] onceQueue\(\): retryDelay must be a duration: a whole number of milliseconds/,
    );
    const slow = refusal(() => onceProcessor(async () => 0, policy({ addTimeout: 0 })));
    expect(slow.message).toMatch(/^\[@oncelock\/bullmq\] onceProcessor\(\): addTimeout must be a duration/);
    expect(slow.message).not.toMatch(/TTL/);
    // A TTL is still reported as one.
    expect(refusal(() => onceQueue(queue, policy({ queuedTtl: 1 }))).message).toMatch(
      /queuedTtl must be a TTL/,
    );
  });

  it('an unknown option is refused with the closest known name, in every entry point', () => {
    const queue = bench.queue(queueName('unknown'));
    const typo = { ...policy(), retyDelay: 50 } as never;
    expect(refusal(() => onceQueue(queue, typo)).message).toMatch(
      /unknown option "retyDelay": did you mean "retryDelay"\?/,
    );
    expect(refusal(() => onceProcessor(async () => 0, typo)).message).toMatch(/did you mean "retryDelay"/);
    const batch = async () => 0;
    expect(refusal(() => drainBacklog(queue, { backend, batchSise: 5, batch } as never)).message).toMatch(
      /^\[@oncelock\/bullmq\] drainBacklog\(\): unknown option "batchSise": did you mean "batchSize"\?/,
    );
    // The drainer sets its own mode: passing one is a mistake, not silently overridden.
    expect(
      refusal(() => drainBacklog(queue, { backend, batchSize: 5, batch, mode: 'untilDone' } as never))
        .message,
    ).toMatch(/unknown option "mode"/);
  });

  it('whileRunning: add() checks its job options too, and adds nothing it refuses', async () => {
    const queue = bench.queue(queueName('while-running-opts'));
    const scans = onceQueue(queue, policy({ mode: 'whileRunning' }));
    for (const opts of [
      { jobId: 'mine' },
      { deduplication: { id: 'x' } },
      { repeat: { every: 1000 } },
      { delay: -1 },
    ]) {
      await expect(scans.add('scan', { shard: 1 }, opts)).rejects.toThrow(
        /^\[@oncelock\/bullmq\] add\(\): opts/,
      );
    }
    expect(await queue.count()).toBe(0);
    // It claims nothing at add time, so two adds of one key both go in.
    expect((await scans.add('scan', { shard: 1 }, { delay: 10 })).status).toBe('added');
    expect((await scans.add('scan', { shard: 1 })).status).toBe('added');
    expect(await queue.count()).toBe(2);
  });
});
