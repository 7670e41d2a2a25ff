import { readFileSync } from 'node:fs';
import { type Lease, lease, type RedisBackend, redisBackend } from '@oncelock/redis';
import { keySpace, scripts } from '@oncelock/redis/lua';
import { delay } from '@oncelock/testkit';
import { spawnWorker, startTcpProxy, stopAllWorkers } from '@oncelock/testkit/faults';
import { historyNow } from '@oncelock/testkit/history';
import { redisUrl } from '@oncelock/testkit/servers';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// A release hands a freed lease straight to its first waiter (release-5.lua, handoffs.ts): the
// waiter's grant comes with the wake-up, and it sends no acquire of its own.

const url = redisUrl;
const backends: RedisBackend[] = [];
const inspector = raw(url);
afterAll(() => Promise.all([stopAllWorkers(), ...backends.map((b) => b.close())]));

/** A backend on a client of its own whose acquire scripts are counted as they are sent. */
function counted() {
  const client = new Redis(url);
  client.on('error', () => {});
  const backend = redisBackend({ client });
  backends.push(backend);
  let acquires = 0;
  let releases = 0;
  const call = client.call.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { call: typeof call }).call = (...args: unknown[]) => {
    const argv = args[1] as unknown[] | undefined;
    if (args[0] === 'evalsha' && argv?.[0] === scripts.acquire.sha) acquires++;
    if (args[0] === 'evalsha' && argv?.[0] === scripts.release.sha) releases++;
    return call(...args);
  };
  afterAll(() => client.quit().catch(() => client.disconnect()));
  return { backend, acquires: () => acquires, releases: () => releases };
}

const waiters = (key: string) => inspector.zcard(keySpace('oncelock:').waiters(key));

/**
 * Starts a wait for `key` and resolves once it has joined the key's waiters, with the wait in an
 * object (an async function returning the promise itself would wait for it).
 */
async function join(backend: RedisBackend, key: string, ttl = 30_000) {
  const before = await waiters(key);
  const waiting = lease(backend, key, { ttl, wait: 20_000 });
  waiting.catch(() => {});
  while ((await waiters(key)) === before) await delay(2);
  return { waiting };
}

/** A key held by a backend of its own for 30 s. */
async function heldKey(name: string) {
  const holder = redisBackend({ url });
  backends.push(holder);
  const key = unique(name);
  return { holder, key, held: await lease(holder, key, { ttl: 30_000 }) };
}

/** A held key, and a counted waiter queued for it with `ttl`. */
async function queuedBehind(name: string, ttl: number) {
  const waiter = counted();
  const { key, held } = await heldKey(name);
  return { waiter, key, held, ...(await join(waiter.backend, key, ttl)) };
}

describe('handoff at a release', () => {
  it('hands the key down a line of waiters: each grant needs no acquire of its own, and fences rise', async () => {
    const holder = redisBackend({ url });
    backends.push(holder);
    const line = [counted(), counted(), counted()];
    const key = unique('hand-line');
    let current: Lease = await lease(holder, key, { ttl: 30_000 });
    const pending: Array<Promise<Lease>> = [];
    for (const w of line) pending.push((await join(w.backend, key)).waiting);
    const sent = line.map((w) => w.acquires());
    const fences = [current.fence];
    for (const [i, next] of pending.entries()) {
      await current.release();
      current = await next;
      fences.push(current.fence);
      // Granted by the hand: no acquire was sent since it joined.
      expect(line[i]!.acquires()).toBe(sent[i]);
      expect((await line[i]!.backend.inspect(key))?.owner).toBe(current.token);
    }
    await current.release();
    for (let i = 1; i < fences.length; i++) expect(fences[i]!).toBeGreaterThan(fences[i - 1]!);
    expect(await holder.inspect(key)).toBeNull();
  });

  it("a handed lease's local validity counts from before the waiter joined, not from the hand", async () => {
    const ttl = 5000;
    const { key, held, waiting } = await queuedBehind('hand-anchor', ttl);
    await delay(1000);
    await held.release();
    const got = await waiting;
    // Counted from the hand, about ttl - 300 ms (the safety margin and drift) would be left;
    // counted from the waiter's first try, 1 s less.
    expect(got.remaining()).toBeLessThan(ttl - 1000);
    // The server's TTL started at the hand: it outlasts the local validity.
    expect(await inspector.pttl(keySpace('oncelock:').lock(key))).toBeGreaterThan(got.remaining());
    await got.release();
  });

  it('an older release wakes a waiter that joined with its terms, which then acquires', async () => {
    const older = readFileSync(new URL('./fixtures/release-5.before-handoff.lua', import.meta.url), 'utf8');
    const waiter = counted();
    const { holder, key, held } = await heldKey('hand-older');
    const { waiting } = await join(waiter.backend, key);
    const before = waiter.acquires();
    const ks = keySpace('oncelock:');
    const family = [ks.lock(key), ks.record(key), ks.waiters(key), ks.permits(key), ks.grants(key)];
    expect(await inspector.eval(older, 5, ...family, held.token, 60_000, ks.wakePrefix, 16, '')).toBe(1);
    const releasedAt = performance.now();
    const got = await waiting;
    // Woken (not after the ~1 s fallback poll), and granted by an acquire of its own.
    expect(performance.now() - releasedAt).toBeLessThan(600);
    expect(waiter.acquires()).toBeGreaterThan(before);
    expect((await holder.inspect(key))?.owner).toBe(got.token);
    await got.release();
  });

  it('a waiter that leaves while its hand is on the way gives the key back, which goes to the next', async () => {
    const holder = redisBackend({ url });
    backends.push(holder);
    const [quitter, next] = [counted(), counted()];
    const key = unique('hand-left');
    const held = await lease(holder, key, { ttl: 30_000 });
    const abort = new AbortController();
    const gaveUp = lease(quitter.backend, key, { ttl: 30_000, wait: 20_000, signal: abort.signal });
    gaveUp.catch(() => {});
    while ((await waiters(key)) === 0) await delay(2);
    const [member] = await inspector.zrange(keySpace('oncelock:').waiters(key), 0, 0);
    const { waiting } = await join(next.backend, key);
    abort.abort(new Error('no longer needed'));
    await expect(gaveUp).rejects.toThrow();
    // Its place is gone; put it back first in line, as if the release had popped it before it left.
    while ((await inspector.zscore(keySpace('oncelock:').waiters(key), member!)) !== null) await delay(5);
    await inspector.zadd(keySpace('oncelock:').waiters(key), 0, member!);
    const releasedAt = performance.now();
    await held.release();
    const got = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(600);
    expect(got.fence).toBeGreaterThan(held.fence);
    await got.release();
  });

  it('a waiter frozen while it was handed the key does not count it held once its TTL has run out', async () => {
    const holder = redisBackend({ url });
    backends.push(holder);
    const key = unique('hand-frozen');
    const first = await lease(holder, key, { ttl: 30_000 });
    const child = spawnWorker(new URL('./fixtures/waiter.mjs', import.meta.url), [url, key, '1000']);
    while ((await waiters(key)) === 0) await delay(5);
    child.freeze();
    await first.release();
    // Handed to the frozen process: its subscriber connection took the message.
    expect((await holder.inspect(key))?.owner).not.toBe(first.token);
    while ((await holder.inspect(key)) !== null) await delay(50);
    const second = await lease(holder, key, { ttl: 30_000 });
    child.thaw();
    // Thawed, it finds its hand's validity gone: it gives it back and waits again behind `second`.
    await delay(500);
    const releasedAt = historyNow();
    await second.release();
    const held = await child.next<{ type: string; fence: number; at: number }>((m) => m.type === 'held');
    expect(held.at).toBeGreaterThan(releasedAt);
    expect(held.fence).toBeGreaterThan(second.fence);
  });

  it('hands a freed permit to the first waiter under the same limit: no acquire of its own, fences rise', async () => {
    const holder = redisBackend({ url });
    backends.push(holder);
    const line = [counted(), counted()];
    const key = unique('hand-permit');
    const held = [
      await lease(holder, key, { ttl: 30_000, limit: 2 }),
      await lease(holder, key, { ttl: 30_000, limit: 2 }),
    ];
    const pending: Array<Promise<Lease>> = [];
    for (const w of line) {
      const before = await waiters(key);
      const waiting = lease(w.backend, key, { ttl: 30_000, wait: 20_000, limit: 2 });
      waiting.catch(() => {});
      while ((await waiters(key)) === before) await delay(2);
      pending.push(waiting);
    }
    const sent = line.map((w) => w.acquires());
    let top = Math.max(...held.map((l) => l.fence));
    for (const [i, next] of pending.entries()) {
      await held[i]!.release();
      const got = await next;
      expect(got.limit).toBe(2);
      expect(got.fence).toBeGreaterThan(top);
      top = got.fence;
      expect(line[i]!.acquires()).toBe(sent[i]);
      const holders = (await holder.inspect(key))?.holders?.map((h) => h.owner) ?? [];
      expect(holders).toContain(got.token);
      expect(holders).toHaveLength(2);
      held.push(got);
    }
    await Promise.all(held.slice(2).map((l) => l.release()));
    expect(await holder.inspect(key)).toBeNull();
  });

  it('skips a first waiter whose process is gone and hands the key to the next, still with no acquire', async () => {
    const holder = redisBackend({ url });
    backends.push(holder);
    // The gone one owns its connections, so closing it closes them, as a process's death would.
    const [gone, next] = [redisBackend({ url }), counted()];
    const key = unique('hand-gone');
    const held = await lease(holder, key, { ttl: 30_000 });
    const { waiting: lost } = await join(gone, key);
    const { waiting } = await join(next.backend, key);
    await gone.close(); // its wake-up channel has no listener any more: the hand is taken back
    await expect(lost).rejects.toThrow();
    expect(await waiters(key)).toBe(2); // its place is still first in line
    const sent = next.acquires();
    await held.release();
    const got = await waiting;
    expect(next.acquires()).toBe(sent);
    expect(got.fence).toBeGreaterThan(held.fence);
    await got.release();
  });

  it('a waiter that waits past its TTL still takes its hand: no acquire or give-back of its own, most of its TTL left', async () => {
    const ttl = 3000;
    const { waiter, key, held, waiting } = await queuedBehind('hand-long', ttl);
    // More than twice its TTL: a hand counted from its first try would be stale on arrival.
    await delay(7000);
    const [acquires, releases] = [waiter.acquires(), waiter.releases()];
    await held.release();
    const got = await waiting;
    expect(waiter.releases()).toBe(releases);
    expect(waiter.acquires()).toBe(acquires);
    expect(got.fence).toBeGreaterThan(held.fence);
    // Its fallback polls renewed its anchor: at most about a quarter of the TTL and one poll old.
    expect(got.remaining()).toBeGreaterThan(ttl / 4);
    expect(await inspector.pttl(keySpace('oncelock:').lock(key))).toBeGreaterThan(got.remaining());
    await got.release();
  }, 15_000);

  it('a renewed waiter keeps its place, is among the waiters once, and its hand counts from the new anchor', async () => {
    const b = counted().backend;
    const key = unique('renew');
    const set = keySpace('oncelock:').waiters(key);
    expect(await b.acquire({ key, owner: 'holder', ttl: 30_000 })).toMatchObject({ granted: true });
    let handed = false;
    const stop = await b.subscribe(
      key,
      () => {
        handed = true;
      },
      'first',
    );
    const ttl = 400; // renewed once its anchor is 100 ms old
    const poll = () => b.acquire({ key, owner: 'first', ttl, waiting: true });
    expect(await poll()).toMatchObject({ granted: false });
    const [joined, place] = await inspector.zrange(set, 0, 0, 'WITHSCORES');
    // Another waiter joins after it, then its poll renews it.
    expect(await b.acquire({ key, owner: 'second', ttl: 30_000, waiting: true })).toMatchObject({
      granted: false,
    });
    await delay(150);
    expect(await poll()).toMatchObject({ granted: false });
    const renewedAt = performance.now();
    const all = await inspector.zrange(set, 0, -1, 'WITHSCORES');
    expect(all).toHaveLength(4); // 'first' once, and 'second'
    expect(all[0]).not.toBe(joined);
    expect(all[0]).toMatch(/\0first$/);
    expect(all[1]).toBe(place);
    expect(all[2]).toMatch(/ second$/);
    // The release hands the key to it, first in line, with the anchor of its renewed member.
    expect(await b.release({ key, owner: 'holder' })).toBe(true);
    while (!handed) await delay(2);
    const got = await poll();
    expect(got).toMatchObject({ granted: true });
    const validFrom = (got as { validFrom?: number }).validFrom;
    expect(validFrom).toBeDefined();
    expect(validFrom!).toBeGreaterThan(renewedAt - 100);
    expect(validFrom!).toBeLessThanOrEqual(renewedAt);
    expect((await b.inspect(key))?.owner).toBe('first');
    stop();
    expect(await b.release({ key, owner: 'first' })).toBe(true);
    await b.release({ key, owner: 'second' });
    await inspector.del(set);
  });

  it('a renewal whose reply is cut off leaves the waiter in line once, and the next renewal goes on', async () => {
    const proxy = await startTcpProxy({ targetPort: Number(new URL(url).port || 6379) });
    try {
      const b = redisBackend({ url: proxy.url(url) });
      backends.push(b);
      const holder = redisBackend({ url });
      backends.push(holder);
      const key = unique('renew-cut');
      const set = keySpace('oncelock:').waiters(key);
      expect(await holder.acquire({ key, owner: 'holder', ttl: 30_000 })).toMatchObject({ granted: true });
      const stop = await b.subscribe(key, () => {}, 'first');
      const poll = () => b.acquire({ key, owner: 'first', ttl: 400, waiting: true });
      // Its members with terms (a try made while its subscription reconnects joins without any).
      const inLine = async () => (await inspector.zrange(set, 0, -1)).filter((m) => m.endsWith('\0first'));
      expect(await poll()).toMatchObject({ granted: false });
      const [joined] = await inLine();
      await delay(150);
      // The renewal reaches Redis; its reply is cut off on the way back.
      proxy.setLatency(60);
      const cut = poll().catch(() => 'failed');
      while ((await inLine())[0] === joined) await delay(5);
      // Cut, and kept from reconnecting until the call has failed (the client resends once).
      await proxy.refuse(true);
      proxy.reset();
      proxy.setLatency(0);
      expect(await cut).toBe('failed');
      await proxy.refuse(false);
      // Later than its anchor's renewal age: a second renewal now would replace the first member,
      // which is gone, and leave the cut one in line beside it.
      await delay(150);
      const again = async () => {
        for (;;) {
          try {
            return await poll();
          } catch {
            await delay(50); // reconnecting
          }
        }
      };
      expect(await again()).toMatchObject({ granted: false });
      const [renewed, ...more] = await inLine();
      expect(more).toEqual([]);
      expect(renewed).not.toBe(joined);
      await delay(150);
      expect(await again()).toMatchObject({ granted: false });
      const after = await inLine();
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(renewed);
      // Leaving takes it out (one ZREM, sent in the background).
      stop();
      const until = performance.now() + 2000;
      while ((await inLine()).length > 0 && performance.now() < until) await delay(5);
      expect(await inLine()).toEqual([]);
      expect(await holder.release({ key, owner: 'holder' })).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("a queued waiter's fallback poll leaves the waiters' expiry alone for 30 s after its join; a new joiner moves it", async () => {
    const b = counted().backend;
    const key = unique('poll-expiry');
    const set = keySpace('oncelock:').waiters(key);
    expect(await b.acquire({ key, owner: 'holder', ttl: 30_000 })).toMatchObject({ granted: true });
    const stop = await b.subscribe(key, () => {}, 'first');
    const poll = (owner: string) => b.acquire({ key, owner, ttl: 5000, waiting: true });
    expect(await poll('first')).toMatchObject({ granted: false });
    await delay(300);
    const before = await inspector.pttl(set);
    expect(before).toBeLessThanOrEqual(59_700);
    expect(await poll('first')).toMatchObject({ granted: false }); // its poll: still in line
    expect(await inspector.pttl(set)).toBeLessThanOrEqual(before);
    expect(await inspector.zcard(set)).toBe(1);
    // Someone new joins: the set lives a minute from now.
    expect(await b.acquire({ key, owner: 'second', ttl: 5000, waiting: true })).toMatchObject({
      granted: false,
    });
    expect(await inspector.pttl(set)).toBeGreaterThan(before);
    stop();
    expect(await b.release({ key, owner: 'holder' })).toBe(true);
  });
});
