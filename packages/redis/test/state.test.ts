import { newToken } from '@oncelock/core/backend';
import { lease, redisBackend } from '@oncelock/redis';
import { eventually } from '@oncelock/testkit';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { unique } from './helpers.js';

// Saved state (save-2.lua): kept only by the holder of the key's plain lease, never under a
// smaller fence than the one stored.
const b = redisBackend({ url: redisUrl });
afterAll(() => b.close());

describe('redis saved state', () => {
  it('saves for the holder, loads with its fence, refuses others, deletes', async () => {
    const key = unique('state');
    expect(await b.loadState(key)).toBeNull();
    const l = await lease(b, key, { ttl: 10_000 });
    expect(await b.saveState({ key, owner: l.token, fence: l.fence, value: '{"cursor":1}' })).toBe(true);
    expect(await b.saveState({ key, owner: newToken(), fence: l.fence + 1, value: 'other' })).toBe(false);
    const saved = await b.loadState(key);
    expect(saved).toMatchObject({ value: '{"cursor":1}', fence: l.fence });
    expect(Math.abs(saved!.savedAt - Date.now())).toBeLessThan(60_000); // wall clock, for display
    // A smaller fence than the stored one is refused, even from the holder.
    expect(await b.saveState({ key, owner: l.token, fence: l.fence - 1, value: 'older' })).toBe(false);
    expect((await b.loadState(key))?.value).toBe('{"cursor":1}');
    // Loading and deleting do not need the lock.
    await l.release();
    expect((await b.loadState(key))?.value).toBe('{"cursor":1}');
    expect(await b.deleteState(key)).toBe(true);
    expect(await b.deleteState(key)).toBe(false);
    expect(await b.loadState(key)).toBeNull();
  });

  it('refuses a save once the lease has lapsed, and the next holder saves over it', async () => {
    const key = unique('lapsed');
    const owner = newToken();
    const first = await b.acquire({ key, owner, ttl: 100 });
    if (!first.granted) throw new Error('not granted');
    expect(await b.saveState({ key, owner, fence: first.fence, value: 'a' })).toBe(true);
    expect(await eventually(async () => (await b.inspect(key)) === null)).toBe(true);
    expect(await b.saveState({ key, owner, fence: first.fence, value: 'stale' })).toBe(false);
    const next = await lease(b, key, { ttl: 10_000 });
    expect(next.fence).toBeGreaterThan(first.fence!);
    expect(await b.saveState({ key, owner: next.token, fence: next.fence, value: 'b' })).toBe(true);
    expect(await b.loadState(key)).toMatchObject({ value: 'b', fence: next.fence });
    await next.release();
    await b.deleteState(key);
  });

  it('refuses a permit holder: state belongs to a plain lease', async () => {
    const key = unique('permit');
    const permit = await lease(b, key, { ttl: 10_000, limit: 2 });
    expect(await b.saveState({ key, owner: permit.token, fence: permit.fence, value: 'x' })).toBe(false);
    expect(await b.loadState(key)).toBeNull();
    await permit.release();
  });

  it('keeps a value of nearly 64 KiB of UTF-8 as it was saved', async () => {
    const key = unique('large');
    const l = await lease(b, key, { ttl: 10_000 });
    const value = 'é€😀\u0000'.repeat(6553); // 10 bytes each: 65,530 bytes
    expect(await b.saveState({ key, owner: l.token, fence: l.fence, value })).toBe(true);
    expect((await b.loadState(key))?.value).toBe(value);
    await l.release();
    await b.deleteState(key);
  });
});
