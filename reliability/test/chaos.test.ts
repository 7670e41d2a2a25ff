import { InvalidArgumentError } from '@oncelock/core';
import { seededRandom, startChaos } from '@oncelock/testkit/faults';
import { describe, expect, it } from 'vitest';
import { delay } from '../src/deadline.js';

// The random fault scheduler the torture uses (@oncelock/testkit/faults).

describe('seededRandom', () => {
  it('replays one sequence per seed, in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
    expect(() => seededRandom(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('startChaos', () => {
  it('round robin: every fault in turn; one with nothing to do keeps its turn', async () => {
    const order: string[] = [];
    let busy = 2; // `b` finds no target twice before it can act
    const chaos = startChaos({
      order: 'round-robin',
      every: [5, 5],
      faults: {
        a: { run: async () => void order.push('a') },
        b: {
          run: async () => {
            if (busy-- > 0) return false;
            order.push('b');
          },
        },
      },
    });
    await delay(150);
    const summary = await chaos.stop();
    expect(order.slice(0, 3)).toEqual(['a', 'b', 'a']);
    expect(summary.injected.a).toBe(order.filter((x) => x === 'a').length);
    expect(summary.injected.b).toBe(order.filter((x) => x === 'b').length);
    expect(summary.errors).toEqual([]);
  });

  it('stop() waits for faults still running and keeps their errors', async () => {
    let ended = 0;
    const chaos = startChaos({
      every: [1, 2],
      random: seededRandom(7),
      faults: {
        slow: {
          run: async () => {
            await delay(100);
            ended++;
          },
        },
        broken: { weight: 0.5, run: async () => Promise.reject(new Error('fault failed')) },
      },
    });
    await delay(30);
    const started = chaos.injected.slow;
    const summary = await chaos.stop();
    expect(ended).toBe(summary.injected.slow); // every started fault finished before stop resolved
    expect(summary.injected.slow).toBeGreaterThanOrEqual(started ?? 0);
    expect(summary.errors.length).toBeGreaterThan(0);
    expect(summary.errors.every((e) => e.fault === 'broken')).toBe(true);
    expect(await chaos.stop()).toBe(summary); // idempotent
  });

  it('refuses bad options with a typed error', () => {
    const run = async () => {};
    expect(() => startChaos({ faults: {}, every: [1, 2] })).toThrow(InvalidArgumentError);
    expect(() => startChaos({ faults: { a: { run } }, every: [5, 1] })).toThrow(InvalidArgumentError);
    expect(() => startChaos({ faults: { a: { run, weight: -1 } }, every: [1, 2] })).toThrow(
      InvalidArgumentError,
    );
    expect(() => startChaos({ faults: { a: { run } }, every: [1, 2], order: 'sideways' as never })).toThrow(
      InvalidArgumentError,
    );
  });
});
