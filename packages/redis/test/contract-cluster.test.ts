import { newToken } from '@oncelock/core/backend';
import { lease, redisBackend } from '@oncelock/redis';
import { keySpace } from '@oncelock/redis/lua';
import { backendContract, delay } from '@oncelock/testkit';
import { type RedisCluster, startRedisCluster } from '@oncelock/testkit/servers';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connected, unique } from './helpers.js';

// A real three-primary Redis Cluster on loopback ports, started for this file and stopped after it.
let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ primaries: 3 });
});
afterAll(() => cluster?.stop());

const backend = () => redisBackend({ cluster: [...cluster.nodes] });

// Connected before it is handed over: a Cluster client's first call also loads the slot map,
// and the suite's short TTLs count from the request.
backendContract({ name: 'redis-cluster', create: () => connected(backend()) });

describe('redis-cluster specifics', () => {
  let raw: Cluster;
  beforeAll(() => {
    raw = new Cluster([...cluster.nodes]);
  });
  afterAll(() => raw?.quit());

  it('names itself redis-cluster and spreads keys over every primary', async () => {
    const b = backend();
    expect(b.name).toBe('redis-cluster');
    const owner = newToken();
    const keys = Array.from({ length: 30 }, (_, i) => unique(`spread-${i}`));
    for (const key of keys) expect((await b.acquire({ key, owner, ttl: 5000 })).granted).toBe(true);
    const sizes = await Promise.all(raw.nodes('master').map((n) => n.dbsize()));
    expect(sizes.filter((s) => s > 0).length).toBe(3);
    // list() asks every primary, in one call each.
    const listed = await b.list('spread-');
    for (const key of keys) expect(listed.find((h) => h.key === key)?.owner).toBe(owner);
    await Promise.all(keys.map((key) => b.release({ key, owner })));
    await b.close();
  });

  it('extendMany groups a batch by slot: keys on every node in one call, one answer per lease', async () => {
    const b = backend();
    const owner = newToken();
    const keys = Array.from({ length: 40 }, (_, i) => unique(`batch-${i}`));
    for (const key of keys) await b.acquire({ key, owner, ttl: 500 });
    const requests = keys.map((key, i) => ({ key, owner: i === 7 ? newToken() : owner, ttl: 5000 }));
    const results = await b.extendMany(requests);
    expect(results).toEqual(keys.map((_, i) => i !== 7));
    await delay(600); // past the first TTL: only the extended leases are still held
    const held = await b.list('batch-');
    expect(held.filter((h) => keys.includes(h.key)).length).toBe(39);
    await Promise.all(keys.map((key) => b.release({ key, owner })));
    await b.close();
  });

  it('keeps a lock and its fence record in one slot whatever braces the key holds', async () => {
    const b = backend();
    const tag = unique('t');
    // Unescaped, `}x` would give an empty hash tag and put the two keys in different slots (CROSSSLOT).
    for (const key of [`}${tag}`, `{${tag}}`, `${tag}}{`, `{}${tag}`]) {
      const l = await lease(b, key, { ttl: 5000 });
      expect(l.fence).toBeGreaterThan(0);
      expect((await b.inspect(key))?.owner).toBe(l.token);
      expect(await l.release()).toBe(true);
    }
    await b.close();
  });

  it("keeps a key's permits beside its lock in one slot, and batches them with leases across nodes", async () => {
    const b = backend();
    const keys = keySpace('oncelock:');
    const tag = unique('p');
    const braced = [`}${tag}`, `{${tag}}`, `${tag}}{`, `{}${tag}`];
    for (const key of braced) {
      const slot = calculateSlot(keys.lock(key));
      for (const k of [keys.record(key), keys.waiters(key), keys.permits(key), keys.grants(key)])
        expect(calculateSlot(k), k).toBe(slot);
      // Every script of a permit touches all five keys: CROSSSLOT would fail it.
      const permits = [
        await lease(b, key, { ttl: 5000, limit: 2 }),
        await lease(b, key, { ttl: 5000, limit: 2 }),
      ];
      expect((await b.inspect(key))?.holders?.length).toBe(2);
      expect(await Promise.all(permits.map((p) => p.extend(5000)))).toEqual([undefined, undefined]);
      expect(await Promise.all(permits.map((p) => p.release()))).toEqual([true, true]);
    }
    // Leases and permits on keys spread over every node: one answer each, in order.
    const owner = newToken();
    const spread = Array.from({ length: 20 }, (_, i) => unique(`mixed-${i}`));
    const request = (key: string, i: number) =>
      i % 2 === 0 ? { key, owner, ttl: 5000 } : { key, owner, ttl: 5000, limit: 3 };
    for (const [i, key] of spread.entries()) expect((await b.acquire(request(key, i))).granted).toBe(true);
    expect(await b.extendMany(spread.map(request))).toEqual(spread.map(() => true));
    const listed = (await b.list('mixed-')).filter((h) => spread.includes(h.key));
    expect(listed.filter((h) => h.limit === 3).length).toBe(10);
    expect(await Promise.all(spread.map((key, i) => b.release(request(key, i))))).toEqual(
      spread.map(() => true),
    );
    await b.close();
  });

  it('survives SCRIPT FLUSH on every primary mid-run', async () => {
    const b = backend();
    const keys = Array.from({ length: 10 }, (_, i) => unique(`flush-${i}`));
    const owner = newToken();
    for (let round = 0; round < 3; round++) {
      await Promise.all(raw.nodes('master').map((n) => n.script('FLUSH')));
      for (const key of keys) expect((await b.acquire({ key, owner, ttl: 5000 })).granted).toBe(true);
      await Promise.all(raw.nodes('master').map((n) => n.script('FLUSH')));
      expect(await b.extendMany(keys.map((key) => ({ key, owner, ttl: 5000 })))).toEqual(
        keys.map(() => true),
      );
      await Promise.all(raw.nodes('master').map((n) => n.script('FLUSH')));
      expect((await b.list('flush-')).length).toBe(10);
      for (const key of keys) expect(await b.release({ key, owner })).toBe(true);
    }
    await b.close();
  });

  it('wakes a waiter on another connection through cluster pub/sub', async () => {
    const a = backend();
    const b = backend();
    const key = unique('wake');
    const held = await lease(a, key, { ttl: 30_000 });
    const waiting = lease(b, key, { ttl: 5000, wait: 10_000 });
    await delay(200);
    const releasedAt = performance.now();
    await held.release();
    const next = await waiting;
    // Far below the ~1 s fallback poll: the notification woke it.
    expect(performance.now() - releasedAt).toBeLessThan(250);
    await next.release();
    await Promise.all([a.close(), b.close()]);
  });

  it('a Cluster client passed in: usable before it is ready, and left open on close()', async () => {
    const other = backend();
    const owner = newToken();
    const key = unique('own');
    expect((await other.acquire({ key, owner, ttl: 5000 })).granted).toBe(true);
    const client = new Cluster([...cluster.nodes]);
    const b = redisBackend({ client });
    // Asked at once, before the client has loaded its slot map: list still asks every primary.
    expect((await b.list('own:')).map((h) => h.key)).toContain(key);
    await b.close();
    expect(await client.exists(`oncelock:{${key}}`)).toBe(1);
    await client.quit();
    await other.release({ key, owner });
    await other.close();
  });
});
