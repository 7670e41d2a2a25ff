import {
  CapabilityUnsupportedError,
  InvalidArgumentError,
  type Iteration,
  iterate,
  iterationProgress,
  type LockBackend,
  memoryBackend,
  restartIteration,
  type StepContext,
  wakeSingleton,
} from '@oncelock/core';
import { MAX_STATE_LENGTH } from '@oncelock/core/backend';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, gate, peer, stopAll, until } from './loop-support.js';

const loops: Iteration<unknown>[] = [];
const track = <C>(l: Iteration<C>): Iteration<C> => {
  loops.push(l as Iteration<unknown>);
  return l;
};
afterEach(async () => {
  await stopAll(loops.splice(0));
});

/** A sparse table of ids, read in chunks of `size` ids after a cursor, as a step would. */
function table(ids: number[], size = 3) {
  const seen: number[] = [];
  const step = async (after: number, ctx: StepContext) => {
    const chunk = ids.filter((id) => id > after).slice(0, size);
    seen.push(...chunk);
    ctx.processed(chunk.length);
    return chunk.length ? chunk.at(-1)! : null;
  };
  return { ids, seen, step };
}

describe('iterate', () => {
  it('walks a sparse id cursor chunk by chunk, saves progress, and goes on after new rows and a wake-up', async () => {
    const b = memoryBackend();
    const t = table([3, 10, 11, 500, 501, 9000, 9001]);
    track(iterate(b, 'walk', { start: 0, step: t.step, interval: 60_000 }));
    expect(await until(async () => (await iterationProgress(b, 'walk'))?.caughtUp === true)).toBe(true);
    expect(t.seen).toEqual(t.ids);
    const p = await iterationProgress<number>(b, 'walk');
    expect(p).toMatchObject({ cursor: 9001, chunks: 3, rows: 7, caughtUp: true });
    expect(p!.rowsPerSecond).toBeGreaterThan(0);
    t.ids.push(9005, 12_000);
    await wakeSingleton(b, 'walk');
    expect(await until(() => t.seen.length === 9)).toBe(true);
    expect(await until(async () => (await iterationProgress(b, 'walk'))?.cursor === 12_000)).toBe(true);
    expect(t.seen).toEqual(t.ids);
  });

  it('a date cursor (an ISO string) and a composite one round-trip through the store', async () => {
    const b = memoryBackend();
    const days = ['2024-01-01', '2024-01-02', '2024-01-03'];
    const got: unknown[] = [];
    track(
      iterate(b, 'dates', {
        start: { day: '2023-12-31', id: 0, note: 'é€😀' },
        step: async (cursor) => {
          got.push(cursor);
          const next = days.find((d) => d > cursor.day);
          return next ? { day: next, id: got.length, note: cursor.note } : null;
        },
      }),
    );
    expect(await until(() => got.length === 4)).toBe(true);
    expect(got.at(-1)).toEqual({ day: '2024-01-03', id: 3, note: 'é€😀' });
    expect((await iterationProgress(b, 'dates'))?.cursor).toEqual(got.at(-1));
  });

  it('a new runner resumes from the saved cursor, not from start', async () => {
    const b = memoryBackend();
    const ids = Array.from({ length: 30 }, (_, i) => i * 7 + 1);
    const first = table(ids);
    const enough = gate();
    const a = iterate(b, 'resume', {
      start: 0,
      step: async (after, ctx) => {
        if (first.seen.length >= 9) {
          enough.open();
          await ctx.lease.release(); // this runner stops being leader mid-chunk: the chunk is dropped
          return after + 1000;
        }
        return first.step(after, ctx);
      },
    });
    await enough.passed;
    await a.stop();
    expect((await iterationProgress(b, 'resume'))?.cursor).toBe(ids[8]);
    const second = table(ids);
    track(iterate(b, 'resume', { start: 0, step: second.step }));
    expect(await until(() => second.seen.length === 21)).toBe(true);
    expect(second.seen).toEqual(ids.slice(9));
  });

  it('a stale runner cannot save over the cursor of the runner that took over', async () => {
    const store = memoryBackend();
    const one = peer(store);
    const two = peer(store);
    const inStep = gate();
    const resume = gate();
    const errors: unknown[] = [];
    const stale = track(
      iterate(one.backend, 'stale', {
        start: 0,
        ttl: 300,
        onError: (e) => errors.push(e),
        step: async (after) => {
          inStep.open();
          await resume.passed;
          return after + 1; // an old chunk's cursor, arriving late
        },
      }),
    );
    await inStep.passed;
    const fresh = table([5, 6, 7, 8]);
    one.cut.on = true;
    track(iterate(two.backend, 'stale', { start: 0, ttl: 300, step: fresh.step }));
    expect(await until(async () => (await iterationProgress(store, 'stale'))?.caughtUp === true)).toBe(true);
    one.cut.on = false;
    resume.open();
    await delay(100);
    expect(await iterationProgress(store, 'stale')).toMatchObject({ cursor: 8, chunks: 2 });
    expect(stale.state).not.toBe('leading');
  });

  it('restarts from start on request, from any process and from the handle', async () => {
    const b = memoryBackend();
    const t = table([1, 2, 3, 4, 5, 6]);
    const walk = track(iterate(b, 'restart', { start: 0, step: t.step }));
    expect(await until(async () => (await iterationProgress(b, 'restart'))?.caughtUp === true)).toBe(true);
    const before = (await iterationProgress(b, 'restart'))!;
    await restartIteration(b, 'restart');
    expect(await until(() => t.seen.length === 12)).toBe(true);
    expect(t.seen.slice(6)).toEqual(t.ids);
    await walk.restart();
    expect(await until(() => t.seen.length === 18)).toBe(true);
    expect(await until(async () => (await walk.progress())?.caughtUp === true)).toBe(true);
    const after = (await walk.progress())!;
    expect(after.chunks).toBe(2);
    expect(after.startedAt).toBeGreaterThanOrEqual(before.startedAt);
  });

  it('waits `pause` between chunks and reports steps that fail', async () => {
    const b = memoryBackend();
    const errors: unknown[] = [];
    let calls = 0;
    track(
      iterate(b, 'bad-cursor', {
        start: 0,
        interval: 20,
        pause: 5,
        onError: (e) => errors.push(e),
        step: async () => {
          calls++;
          return calls === 1 ? (10n as unknown as number) : undefined!;
        },
      }),
    );
    expect(await until(() => errors.length >= 2)).toBe(true);
    expect(errors[0]).toBeInstanceOf(InvalidArgumentError);
    expect(String(errors[0])).toContain('JSON');
    expect(String(errors[1])).toContain('next cursor or null');
    expect(await iterationProgress(b, 'bad-cursor')).toBeNull();
  });

  it('refuses bad input and backends without saved state with typed errors', async () => {
    const b = memoryBackend();
    const step = async () => null;
    expect(() => iterate(b, 'x', { start: () => 1, step })).toThrow(InvalidArgumentError);
    expect(() => iterate(b, 'x', { start: 'x'.repeat(MAX_STATE_LENGTH), step })).toThrow(/limit is 65536/);
    expect(() => iterate(b, 'x', { step } as never)).toThrow(InvalidArgumentError);
    expect(() => iterate(b, 'x', { start: 0, step, pause: -1 })).toThrow(InvalidArgumentError);
    const { backend } = peer(b, ['saveState', 'loadState', 'deleteState']);
    expect(() => iterate(backend, 'x', { start: 0, step })).toThrow(CapabilityUnsupportedError);
    await expect(restartIteration(backend, 'x')).rejects.toBeInstanceOf(CapabilityUnsupportedError);
    await expect(iterationProgress(backend, 'x')).rejects.toBeInstanceOf(CapabilityUnsupportedError);
  });

  it('a state saved under the name by something else is reported, and a restart clears it', async () => {
    const b: LockBackend = memoryBackend();
    const owner = 'someone-else';
    await b.acquire({ key: 'foreign', owner, ttl: 1000 });
    await b.saveState!({ key: 'foreign', owner, value: 'not json', fence: 1 });
    await b.release({ key: 'foreign', owner });
    await expect(iterationProgress(b, 'foreign')).rejects.toBeInstanceOf(InvalidArgumentError);
    await restartIteration(b, 'foreign');
    expect(await iterationProgress(b, 'foreign')).toBeNull();
  });
});
