import { randomUUID } from 'node:crypto';
import { rateLimit, WaitAbortedError } from '@oncelock/core';
import { afterEach, describe, expect, it } from 'vitest';
import { stores } from './backends.js';
import { scraped } from './scrape.js';

let cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

describe.each(stores)('rate metrics on $name', (store) => {
  it('counts allowed, reserved and refused decisions by lock, and the delay of each granted start', async () => {
    const { registry, value, stop } = scraped();
    const { a, close } = store.pair();
    cleanups.push(stop, close);
    // One start a minute: the first is allowed, a second at once refused, a third reserves the
    // slot a minute ahead (aborted at once: the store keeps the slot, the decision is made).
    const key = `mail:${randomUUID()}`;
    const rate = { limit: 1, per: 60_000 };
    expect(await rateLimit(a, key, rate)).toMatchObject({ allowed: true });
    expect(await rateLimit(a, key, rate)).toMatchObject({ allowed: false });
    const wait = new AbortController();
    const reserved = rateLimit(a, key, { ...rate, wait: 120_000, signal: wait.signal });
    wait.abort();
    await expect(reserved).rejects.toBeInstanceOf(WaitAbortedError);

    const labels = { lock: 'mail', backend: a.name };
    const decisions = (outcome: string) => value('oncelock_rate_decisions_total', { ...labels, outcome });
    expect(await decisions('allowed')).toBe(1);
    expect(await decisions('reserved')).toBe(1);
    expect(await decisions('refused')).toBe(1);
    // Granted starts only: one at once (le="0"), one about a minute ahead.
    const delay = (suffix: string, more: Record<string, string> = {}) =>
      value('oncelock_rate_delay_seconds', { ...labels, ...more }, suffix);
    expect(await delay('_count')).toBe(2);
    expect(await delay('_bucket', { le: '0' })).toBe(1);
    expect(await delay('_bucket', { le: '30' })).toBe(1);
    expect(await delay('_bucket', { le: '60' })).toBe(2);
    expect(await delay('_sum')).toBeGreaterThan(30);
    expect(await registry.metrics()).not.toContain(key);
  });
});
