import { describe, expect, it } from 'vitest';
import { deadline, GRAIN } from '../src/backend-kit/deadlines.js';
import { within } from '../src/backend-kit/within.js';

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('deadlines on one shared timer', () => {
  it('fires each deadline no earlier than its time, and each once', async () => {
    const start = performance.now();
    const fired: Array<{ ms: number; at: number }> = [];
    for (const ms of [40, 5, 25, 5, 60])
      deadline(ms, () => fired.push({ ms, at: performance.now() - start }));
    await later(60 + 4 * GRAIN);
    expect(fired.map((f) => f.ms).sort((a, b) => a - b)).toEqual([5, 5, 25, 40, 60]);
    for (const f of fired) expect(f.at).toBeGreaterThanOrEqual(f.ms - 1);
  });

  it('a cancelled deadline never fires, and the others still do', async () => {
    const fired: string[] = [];
    const a = deadline(10, () => fired.push('a'));
    deadline(10, () => fired.push('b'));
    const c = deadline(30, () => fired.push('c'));
    a.cancel();
    c.cancel();
    await later(30 + 3 * GRAIN);
    expect(fired).toEqual(['b']);
  });
});

describe('within()', () => {
  it('passes a result or a failure on, and rejects a call that outlives its time', async () => {
    await expect(within(Promise.resolve(7), 20)).resolves.toBe(7);
    await expect(within(Promise.reject(new Error('no')), 20)).rejects.toThrow('no');
    let ended = false;
    await expect(within(new Promise(() => {}), 15, () => (ended = true))).rejects.toThrow(
      'got no answer within 15 ms',
    );
    expect(ended).toBe(true);
  });

  it('an onTimeout that throws still rejects, with its error as the cause', async () => {
    const boom = new Error('boom');
    const failure = await within(new Promise(() => {}), 5, () => {
      throw boom;
    }).catch((e: unknown) => e);
    expect((failure as Error).cause).toBe(boom);
  });
});
