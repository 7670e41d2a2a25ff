import {
  CapabilityUnsupportedError,
  type ChainOutcome,
  type ChunkChainOptions,
  chunkChain,
  InvalidArgumentError,
  iterationProgress,
  type LockBackend,
} from '@oncelock/bullmq';
import { delay } from '@oncelock/testkit';
import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { type Bench, eachTest, gate, queueName, until } from './support.js';

let bench: Bench;
let backend: LockBackend;
eachTest((b, m) => {
  bench = b;
  backend = m;
});

/** A sparse table of ids, and a step that takes the next `size` ids after the cursor. */
function table(ids: number[], size = 5) {
  const rows = [...ids];
  const seen: number[] = [];
  let running = 0;
  let most = 0;
  const step: ChunkChainOptions<number, unknown, string>['step'] = async (after, { processed }) => {
    most = Math.max(most, ++running);
    try {
      const chunk = rows.filter((id) => id > after).slice(0, size);
      await delay(10);
      seen.push(...chunk);
      processed(chunk.length);
      return chunk.length > 0 ? (chunk.at(-1) as number) : null;
    } finally {
      running--;
    }
  };
  return {
    rows,
    seen,
    step,
    get most() {
      return most;
    },
  };
}

const outcomes = async (queue: Queue) =>
  (await queue.getCompleted(0, -1)).map((j) => j.returnvalue as ChainOutcome<number>);

const settled = (queue: Queue) =>
  until(
    async () => (await queue.count()) === 0 && (await queue.getActiveCount()) === 0,
    10_000,
    'the queue to empty',
  );

describe('chunkChain', () => {
  it('walks a sparse table one chunk per job, each job adding the next, and saves progress core can read', async () => {
    const name = queueName('chain');
    const queue = bench.queue(name);
    const ids = Array.from({ length: 23 }, (_, i) => 3 + i * 7); // sparse: 3, 10, 17, ...
    const t = table(ids);
    const chain = chunkChain(queue, { backend, start: 0, step: t.step });
    bench.worker(name, chain.processor);
    expect((await chain.trigger('backfill', {})).status).toBe('added');
    await until(async () => (await chain.progress('backfill', {}))?.caughtUp, 10_000, 'the walk');
    await settled(queue);
    expect(t.seen).toEqual(ids);
    expect(t.most).toBe(1);
    const p = await chain.progress('backfill', {});
    expect(p).toMatchObject({ cursor: ids.at(-1), chunks: 5, rows: 23, caughtUp: true });
    // The same progress through core, by the chain's key.
    expect(await iterationProgress(backend, chain.keyOf('backfill', {}))).toEqual(p);
    // Six jobs: five chunks, then one that found nothing; each began where the last one ended.
    const done = (await outcomes(queue)).sort((a, b) => a.cursor - b.cursor);
    expect(done.map((o) => [o.cursor, o.next, o.rows])).toEqual([
      [0, 31, 5],
      [31, 66, 5],
      [66, 101, 5],
      [101, 136, 5],
      [136, 157, 3],
      [157, null, 0],
    ]);
    expect(done.filter((o) => o.successor === undefined)).toHaveLength(1);
  });

  it('resumes a caught-up chain from its saved cursor when triggered again; restart() begins again at start', async () => {
    const name = queueName('chain-resume');
    const queue = bench.queue(name);
    const t = table([1, 2, 3, 4, 5, 6, 7]);
    const chain = chunkChain(queue, { backend, start: 0, step: t.step });
    bench.worker(name, chain.processor);
    await chain.trigger('sync', {});
    await until(async () => (await chain.progress('sync', {}))?.caughtUp, 10_000, 'the first walk');
    await settled(queue);
    const first = await chain.progress('sync', {});
    t.rows.push(8, 9, 10); // new rows come after the cursor
    await chain.trigger('sync', {});
    await until(async () => (await chain.progress('sync', {}))?.cursor === 10, 10_000, 'the new rows');
    await settled(queue);
    expect(t.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await chain.progress('sync', {}))?.startedAt).toBe(first?.startedAt);

    await chain.restart('sync', {});
    expect(await chain.progress('sync', {})).toBeNull();
    await chain.trigger('sync', {});
    await until(async () => (await chain.progress('sync', {}))?.caughtUp, 10_000, 'the second walk');
    await settled(queue);
    expect(t.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('pauses between chunks with a delayed successor; a trigger while one waits adds nothing', async () => {
    const name = queueName('chain-pause');
    const queue = bench.queue(name);
    const held = gate();
    let stepping = false;
    const t = table([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const chain = chunkChain(queue, {
      backend,
      start: 0,
      pause: 200,
      retryDelay: 50,
      step: async (cursor, ctx) => {
        if (cursor === 0) {
          stepping = true;
          await held.promise;
        }
        return t.step(cursor, ctx);
      },
    });
    bench.worker(name, chain.processor, { concurrency: 3 });
    const first = await chain.trigger('walk', {});
    if (first.status !== 'added') expect.fail('the first trigger adds a job');
    // In its step, not only 'active' in BullMQ: by then the job has claimed and given up its queued slot.
    await until(async () => stepping, 5_000, 'the first chunk to run');
    // The running job gave up its queued slot: one trigger adds a waiting job, the next adds nothing.
    expect((await chain.trigger('walk', {})).status).toBe('added');
    const again = await chain.trigger('walk', {});
    expect(again.status).toBe('cancelled');
    held.open();
    await until(async () => (await chain.progress('walk', {}))?.caughtUp, 10_000, 'the walk');
    await settled(queue);
    expect(t.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(t.most).toBe(1);
    // The jobs the chain added itself waited the pause; the trigger's waiting job took the first one's place.
    const jobs = await queue.getCompleted(0, -1);
    const added = jobs.filter((j) => j.opts.delay === 200);
    expect(added.length).toBeGreaterThanOrEqual(2);
  });

  it('a step that throws commits nothing: the retry begins at the same cursor', async () => {
    const name = queueName('chain-retry');
    const queue = bench.queue(name);
    const t = table([1, 2, 3, 4, 5, 6, 7, 8]);
    let failures = 0;
    const chain = chunkChain(queue, {
      backend,
      start: 0,
      step: async (cursor, ctx) => {
        if (cursor === 5 && failures++ === 0) throw new Error('database went away');
        return t.step(cursor, ctx);
      },
    });
    bench.worker(name, chain.processor);
    await chain.trigger('walk', {}, { attempts: 3, backoff: { type: 'fixed', delay: 20 } });
    await until(async () => (await chain.progress('walk', {}))?.caughtUp, 10_000, 'the walk');
    expect(failures).toBe(2); // the failure, then the retry passed the test again
    expect(t.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('fails a job whose step resolves undefined, with InvalidArgumentError, and saves nothing', async () => {
    const name = queueName('chain-undefined');
    const queue = bench.queue(name);
    const chain = chunkChain(queue, { backend, start: 0, step: (async () => undefined) as never });
    const failed: Error[] = [];
    bench.worker(name, chain.processor).on('failed', (_job, error) => failed.push(error));
    await chain.trigger('walk', {});
    await until(() => failed.length > 0, 5_000, 'the job to fail');
    expect(failed[0]?.name).toBe('InvalidArgumentError');
    expect(failed[0]?.message).toMatch(/step must resolve to the next cursor or null/);
    expect((await chain.progress('walk', {}))?.chunks).toBe(0);
  });

  it('refuses bad options, and a backend that cannot save state, before any round trip', () => {
    const queue = bench.queue(queueName('chain-bad'));
    const step = async () => null;
    const bad = (o: Record<string, unknown>) => () =>
      chunkChain(queue, { backend, start: 0, step, ...o } as never);
    expect(bad({ start: undefined })).toThrow(/start is required/);
    expect(bad({ step: 'no' })).toThrow(InvalidArgumentError);
    expect(bad({ pause: -1 })).toThrow(InvalidArgumentError);
    expect(bad({ pause: 5_000, queuedTtl: 5_000 })).toThrow(/pause must be shorter than queuedTtl/);
    expect(bad({ mode: 'untilDone' })).toThrow(/unknown option "mode"/);
    expect(bad({ start: 10n })).toThrow(/a cursor must be a JSON value/);
    expect(bad({ backend: null })).toThrow(InvalidArgumentError);
    const stateless = { ...backend, saveState: undefined } as LockBackend;
    expect(() => chunkChain(queue, { backend: stateless, start: 0, step })).toThrow(
      CapabilityUnsupportedError,
    );
  });
});
