import { type Lease, lease, onEvent, type RedisBackend, redisBackend } from '@oncelock/redis';
import { delay } from '@oncelock/testkit';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// A release wakes one waiting backend, the first that began to wait, instead of every process
// subscribed to the key (a thundering herd of acquire attempts on every release).

const url = redisUrl;
const backends: RedisBackend[] = [];
const open = () => {
  const b = redisBackend({ url });
  backends.push(b);
  return b;
};
afterAll(() => Promise.all(backends.map((b) => b.close())));

/** How many backends are queued for `key` in Redis. */
const inspector = raw(url);
const queued = (key: string) => inspector.zcard(`oncelock:{${key}}:waiters`);

/**
 * Starts a wait for `key` on `backend`, and resolves once it has joined the key's waiters, with
 * the wait (in an object: an async function returning the promise itself would wait for it).
 */
async function join(backend: RedisBackend, key: string, options: { signal?: AbortSignal } = {}) {
  const before = await queued(key);
  const waiting = lease(backend, key, { ttl: 30_000, wait: 20_000, ...options });
  waiting.catch(() => {}); // awaited by the test where it matters
  while ((await queued(key)) === before) await delay(2);
  return { waiting };
}

describe('wake-ups', () => {
  it('a release wakes one of several waiting backends, not all of them', async () => {
    const holder = open();
    const waiters = [open(), open(), open(), open()];
    const rounds = 5;
    let herd = 0;
    for (let round = 0; round < rounds; round++) {
      const key = unique('wake-one');
      const held = await lease(holder, key, { ttl: 30_000 });
      const pending = new Map<number, Promise<{ i: number; l: Lease }>>();
      for (const [i, w] of waiters.entries())
        pending.set(
          i,
          (await join(w, key)).waiting.then((l) => ({ i, l })),
        );
      /** The next waiter to be granted the key. */
      const take = async () => {
        const { i, l } = await Promise.race(pending.values());
        pending.delete(i);
        return l;
      };
      const stop = onEvent('refused', (e) => {
        if (e.key === key) herd++;
      });
      await held.release();
      let current = await take();
      await delay(100); // a herd would be refused within a few ms of the release
      stop();
      // Hand the key down the line: every waiter gets it in turn.
      while (pending.size > 0) {
        await current.release();
        current = await take();
      }
      await current.release();
    }
    // A herd makes 3 refusals per release; a waiter's ~1 s fallback poll may rarely land in the window.
    expect(herd).toBeLessThanOrEqual(rounds);
  });

  it('several waiters in one process are woken one at a time too', async () => {
    const [holder, shared] = [open(), open()];
    const key = unique('one-process');
    const held = await lease(holder, key, { ttl: 30_000 });
    const joined: Array<Promise<Lease>> = [];
    for (let i = 0; i < 3; i++) joined.push((await join(shared, key)).waiting);
    let refused = 0;
    const stop = onEvent('refused', (e) => {
      if (e.key === key) refused++;
    });
    await held.release();
    const first = await joined[0]!;
    await delay(100);
    stop();
    await first.release();
    await (await joined[1]!).release();
    await (await joined[2]!).release();
    // Woken together, two would be refused at once; the fallback poll may rarely add one.
    expect(refused).toBeLessThanOrEqual(1);
  });

  it('a waiter that gives up leaves the waiters, and a wake-up that still reaches it is passed on', async () => {
    const [holder, quitter, next] = [open(), open(), open()];
    const key = unique('pass-on');
    const waiters = `oncelock:{${key}}:waiters`;
    const held = await lease(holder, key, { ttl: 30_000 });
    const abort = new AbortController();
    const { waiting: gaveUp } = await join(quitter, key, { signal: abort.signal });
    const [member] = await inspector.zrange(waiters, 0, 0);
    const { waiting } = await join(next, key);
    abort.abort(new Error('no longer needed'));
    await expect(gaveUp).rejects.toThrow();
    // It takes itself out of the waiters: they do not pile up while a key stays busy.
    for (let i = 0; i < 100 && (await inspector.zscore(waiters, member!)) !== null; i++) await delay(10);
    expect(await inspector.zscore(waiters, member!)).toBeNull();
    // A wake-up already on its way as it left: put it back, first in line, and release.
    await inspector.zadd(waiters, 0, member!);
    const releasedAt = performance.now();
    await held.release();
    const got = await waiting;
    // The fallback poll comes 0.7 to 1.3 s after a waiter's last try: this was a wake-up.
    expect(performance.now() - releasedAt).toBeLessThan(600);
    await got.release();
  });

  it('a waiter whose process is gone is skipped: the next one is woken', async () => {
    const [holder, gone, next] = [redisBackend({ url }), redisBackend({ url }), open()];
    backends.push(holder);
    const key = unique('gone');
    const held = await lease(holder, key, { ttl: 30_000 });
    const { waiting: lost } = await join(gone, key);
    const { waiting } = await join(next, key);
    await gone.close(); // its wake-up channel has no listener any more
    await expect(lost).rejects.toThrow();
    expect(await queued(key)).toBe(2);
    const releasedAt = performance.now();
    await held.release();
    const got = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(600);
    await got.release();
  });

  it("a waiter's fallback poll keeps its place; one a release took out goes back at the holder's grant", async () => {
    const b = open();
    const key = unique('poll-place');
    const waiters = `oncelock:{${key}}:waiters`;
    expect(await b.acquire({ key, owner: 'holder', ttl: 30_000 })).toMatchObject({ granted: true });
    const wait = (owner: string) => b.acquire({ key, owner, ttl: 5000, waiting: true });
    await wait('first');
    await delay(5);
    await wait('second');
    const before = await inspector.zrange(waiters, 0, -1, 'WITHSCORES');
    expect(before).toHaveLength(4);
    await wait('first'); // its poll
    expect(await inspector.zrange(waiters, 0, -1, 'WITHSCORES')).toEqual(before);
    // Taken out as a release takes out the waiter it wakes, with the wake-up not yet arrived.
    await inspector.zrem(waiters, before[0]!);
    await wait('first');
    expect(await inspector.zscore(waiters, before[0]!)).toBe(String((await b.inspect(key))?.since));
    expect(await inspector.zrange(waiters, 0, -1)).toEqual([before[0], before[2]]);
    expect(await b.release({ key, owner: 'holder' })).toBe(true);
  });
});
