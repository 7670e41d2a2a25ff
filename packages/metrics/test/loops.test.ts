import { randomUUID } from 'node:crypto';
import { forceRelease, type PassResult, singleton } from '@oncelock/core';
import { aborted, eventually } from '@oncelock/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { stores } from './backends.js';
import { scraped } from './scrape.js';

let cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe.each(stores)('loop metrics on $name', (store) => {
  it('reports the leader, its terms, passes by outcome, pass time and a lease lost under it', async () => {
    const { registry, value, stop } = scraped();
    const { a, b, close } = store.pair();
    cleanups.push(close, stop);
    const key = `sweep:${randomUUID()}`;
    const labels = { lock: 'sweep', backend: a.name };
    const figure = (name: string, more: Record<string, string> = {}, suffix = '') =>
      value(name, { ...labels, ...more }, suffix);
    const passes = (outcome: string) => figure('oncelock_loop_passes_total', { outcome });

    // Passes, in order: more, failed, one the lease is lost under, then idle ones.
    let calls = 0;
    const body = async ({ signal }: { signal: AbortSignal }): Promise<PassResult> => {
      const call = calls++;
      if (call === 0) return 'more';
      if (call === 1) throw new Error('the pass failed');
      if (call === 2) await aborted(signal);
      return 'idle';
    };
    const options = { interval: 60_000, ttl: 1_000, onError: () => {} };
    const first = singleton(a, key, body, options);
    cleanups.push(() => first.stop());
    expect(await eventually(() => first.passes === 2)).toBe(true);
    expect(await figure('oncelock_loop_leading')).toBe(1);
    expect(await figure('oncelock_loop_terms_total')).toBe(1);
    expect(await passes('more')).toBe(1);
    expect(await passes('failed')).toBe(1);

    // An operator frees the key under the leader: its next extension finds it gone, the pass in
    // progress is lost, and the loop leads again (a second term).
    await first.wake();
    expect(await eventually(() => calls === 3)).toBe(true);
    const holder = await a.inspect(key);
    expect(holder).toBeDefined();
    expect(await forceRelease(a, key, holder!)).toBe(true);
    expect(await eventually(() => first.passes === 4 && first.state === 'leading', 10_000)).toBe(true);
    expect(await passes('lost')).toBe(1);
    expect(await figure('oncelock_loop_lost_total')).toBe(1);
    expect(await figure('oncelock_loop_terms_total')).toBe(2);
    // The loop's lease is a lease: its loss is counted there too.
    expect(await figure('oncelock_leases_lost_total', { reason: 'not-held' })).toBe(1);

    // A second process waits to lead, and takes over when the first stops.
    const second = singleton(b, key, body, options);
    cleanups.push(() => second.stop());
    expect(await eventually(async () => (await figure('oncelock_waiters')) === 1)).toBe(true);
    await first.stop();
    expect(await eventually(() => second.state === 'leading' && calls === 5, 10_000)).toBe(true);
    expect(await figure('oncelock_loop_terms_total')).toBe(3);
    expect(await figure('oncelock_loop_leading')).toBe(1);
    await second.stop();
    expect(await figure('oncelock_loop_leading')).toBe(0);

    expect(await passes('idle')).toBe(2);
    expect(await figure('oncelock_loop_pass_duration_seconds', {}, '_count')).toBe(5);
    expect(await registry.metrics()).not.toContain(key);
  });
});
