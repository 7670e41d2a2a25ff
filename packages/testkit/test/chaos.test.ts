import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '@oncelock/core';
import { type ChaosFault, seededRandom, startChaos } from '@oncelock/testkit/faults';
import { describe, expect, it } from 'vitest';

// startChaos with `unit: 'steps'`: faults spaced by the progress the caller reports, not by time.
// (The time-based schedule is tested with the torture, in reliability/test/chaos.test.ts.)

/** A fault that logs its name each time it is started. */
const logging = (log: string[], name: string, weight?: number): ChaosFault => ({
  weight,
  run: async () => void log.push(name),
});

describe('startChaos by steps', () => {
  it('starts a fault each time `every` steps have been reported, and none in between', async () => {
    const log: string[] = [];
    const chaos = startChaos({ unit: 'steps', every: [3, 3], faults: { a: logging(log, 'a') } });
    chaos.step();
    chaos.step();
    expect(log).toEqual([]);
    chaos.step();
    expect(log).toEqual(['a']);
    for (let i = 0; i < 6; i++) chaos.step();
    expect(log).toHaveLength(3);
    const summary = await chaos.stop();
    expect(summary).toEqual({ injected: { a: 3 }, errors: [] });
  });

  it('one report of many steps starts every fault that came due', async () => {
    const log: string[] = [];
    const chaos = startChaos({ unit: 'steps', every: [4, 4], faults: { a: logging(log, 'a') } });
    chaos.step(10);
    expect(log).toHaveLength(2);
    chaos.step(1);
    expect(log).toHaveLength(2);
    chaos.step(1);
    expect(log).toHaveLength(3);
    chaos.step(0);
    expect(log).toHaveLength(3);
    await chaos.stop();
  });

  it('injects nothing while no progress is reported, however long it waits', async () => {
    const log: string[] = [];
    const chaos = startChaos({ unit: 'steps', every: [1, 1], faults: { a: logging(log, 'a') } });
    await sleep(60);
    expect(log).toEqual([]);
    expect((await chaos.stop()).injected).toEqual({ a: 0 });
  });

  it('draws each gap from [min, max], and a seed replays the same schedule', async () => {
    const run = async (seed: number) => {
      const log: string[] = [];
      const at: number[] = [];
      const chaos = startChaos({
        unit: 'steps',
        every: [5, 15],
        random: seededRandom(seed),
        faults: { a: logging(log, 'a', 3), b: logging(log, 'b', 1) },
      });
      for (let i = 1; i <= 1000; i++) {
        const before = log.length;
        chaos.step();
        if (log.length > before) at.push(i);
      }
      await chaos.stop();
      return { log, at };
    };
    const first = await run(3);
    expect(await run(3)).toEqual(first);
    expect((await run(4)).log).not.toEqual(first.log);
    const gaps = first.at.map((n, i) => n - (first.at[i - 1] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(15);
    expect(first.log.length).toBeGreaterThan(1000 / 15);
    expect(first.log.length).toBeLessThan(1000 / 5);
    // By weight: `a` three times as likely as `b`.
    const a = first.log.filter((x) => x === 'a').length;
    expect(a / first.log.length).toBeGreaterThan(0.6);
    expect(a / first.log.length).toBeLessThan(0.9);
  });

  it('round robin: a fault with nothing to do keeps its turn for the next step that is due', async () => {
    const log: string[] = [];
    let idle = 1; // `b` finds no target the first time
    const chaos = startChaos({
      unit: 'steps',
      order: 'round-robin',
      every: [1, 1],
      faults: {
        a: logging(log, 'a'),
        b: {
          run: async () => {
            if (idle-- > 0) return false;
            log.push('b');
          },
        },
      },
    });
    chaos.step();
    chaos.step();
    await sleep(0); // `b`'s `false` is seen once its promise settles
    chaos.step();
    chaos.step();
    expect(log).toEqual(['a', 'b', 'a']);
    expect((await chaos.stop()).injected).toEqual({ a: 2, b: 1 });
  });

  it('keeps the errors of faults that reject or throw, and stop() waits for running ones', async () => {
    let ended = 0;
    const chaos = startChaos({
      unit: 'steps',
      every: [1, 1],
      order: 'round-robin',
      faults: {
        slow: { run: () => sleep(50).then(() => void ended++) },
        rejects: { run: async () => Promise.reject(new Error('fault failed')) },
        throws: {
          run: () => {
            throw new Error('thrown at once');
          },
        },
      },
    });
    expect(() => chaos.step(3)).not.toThrow();
    const summary = await chaos.stop();
    expect(ended).toBe(1);
    expect(summary.injected).toEqual({ slow: 1, rejects: 0, throws: 0 });
    expect(summary.errors.map((e) => e.fault).sort()).toEqual(['rejects', 'throws']);
  });

  it('does nothing on steps reported once stopped', async () => {
    const log: string[] = [];
    const chaos = startChaos({ unit: 'steps', every: [1, 1], faults: { a: logging(log, 'a') } });
    chaos.step(2);
    const stopping = chaos.stop();
    chaos.step(5);
    expect((await stopping).injected).toEqual({ a: 2 });
    expect(log).toHaveLength(2);
  });

  it('refuses bad options and bad steps with a typed error', async () => {
    const faults = { a: { run: async () => {} } };
    const bad = [
      { faults, every: [0, 5], unit: 'steps' },
      { faults, every: [-1, 5], unit: 'steps' },
      { faults, every: [5, Number.POSITIVE_INFINITY], unit: 'steps' },
      { faults, every: [5, 2], unit: 'steps' },
      { faults, every: ['1', 2], unit: 'steps' },
      { faults, unit: 'steps' },
      { faults, every: [1, 2], unit: 'sections' },
    ];
    for (const options of bad) expect(() => startChaos(options as never)).toThrow(InvalidArgumentError);

    const bySteps = startChaos({ faults, every: [1, 2], unit: 'steps' });
    for (const count of [-1, Number.NaN, Number.POSITIVE_INFINITY, '2']) {
      expect(() => bySteps.step(count as never)).toThrow(InvalidArgumentError);
    }
    await bySteps.stop();
    const byTime = startChaos({ faults, every: [1000, 1000] });
    expect(() => byTime.step()).toThrow(InvalidArgumentError);
    await byTime.stop();
  });
});
