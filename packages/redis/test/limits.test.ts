import { newToken } from '@oncelock/core/backend';
import { type Lease, lease, type RedisBackend, redisBackend } from '@oncelock/redis';
import { delay } from '@oncelock/testkit';
import { spawnWorker, type Worker } from '@oncelock/testkit/faults';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// What the contract suite's limit cases cannot see: permits expiring on the server's clock, a
// killed holder's permit, the wake-one queue, fences shared with plain leases, the batch.

const backends: RedisBackend[] = [];
const open = () => {
  const b = redisBackend({ url: redisUrl });
  backends.push(b);
  return b;
};
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(() => Promise.all(backends.map((b) => b.close())));

const r = raw(redisUrl);
const permitsKey = (key: string) => `oncelock:{${key}}:permits`;

type Held = { type: 'held'; token: string; fence: number };
const holder = new URL('./fixtures/holder.mjs', import.meta.url);
/** A process holding one permit of `key` under `limit`, extended by its heartbeat. */
async function permitHolder(key: string, ttl: number, limit: number) {
  const worker = spawnWorker(holder, [redisUrl, key, String(ttl), String(limit)]);
  workers.push(worker);
  const held = await worker.next<Held>((m) => m.type === 'held', 10_000);
  return { worker, held };
}

describe('permits on redis', () => {
  it('a holder killed with SIGKILL: its permit is free at its TTL, while the others stay held', async () => {
    const key = unique('killed-permit');
    const ttl = 2000; // room for a starved child's heartbeat on a loaded machine
    const holders = await Promise.all([1, 2, 3].map(() => permitHolder(key, ttl, 3)));
    await delay(400); // every heartbeat has extended its permit at least once
    const [victim, ...survivors] = holders;
    await victim!.worker.kill();
    const b = open();
    const asked = performance.now();
    const seen = await b.inspect(key);
    expect(seen?.holders?.map((h) => h.owner).sort()).toEqual(holders.map((h) => h.held.token).sort());
    const left = seen!.holders!.find((h) => h.owner === victim!.held.token)!.ttlRemaining!;
    const owner = newToken();
    let grantedAt: number | undefined;
    while (grantedAt === undefined) {
      const result = await b.acquire({ key, owner, ttl: 5000, limit: 3 });
      if (result.granted) {
        grantedAt = performance.now();
        expect(result.fence).toBeGreaterThan(Math.max(...holders.map((h) => h.held.fence)));
      } else await delay(10);
    }
    expect(grantedAt).toBeGreaterThanOrEqual(asked + left - 2); // not before its TTL (ms rounding)
    expect(grantedAt - (asked + left)).toBeLessThan(1000); // and promptly after, on a loaded machine
    // The survivors never lost theirs, and still hold them beside the new permit.
    const after = await b.inspect(key);
    expect(after?.holders?.map((h) => h.owner).sort()).toEqual(
      [owner, ...survivors.map((h) => h.held.token)].sort(),
    );
    for (const s of survivors) expect(s.worker.messages.some((m) => (m as Held).type !== 'held')).toBe(false);
    expect(await b.release({ key, owner, limit: 3 })).toBe(true);
  });

  it("scores each permit's expiry by the server's clock", async () => {
    const b = open();
    const key = unique('server-clock');
    const owner = newToken();
    expect((await b.acquire({ key, owner, ttl: 5000, limit: 2 })).granted).toBe(true);
    const [seconds, micros] = await r.time();
    const serverMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const score = Number(await r.zscore(permitsKey(key), owner));
    expect(Math.abs(score - (serverMs + 5000))).toBeLessThan(200);
    // The keys of the permits go with the last of them: nothing is left behind for an idle key.
    expect(await r.pttl(permitsKey(key))).toBeGreaterThan(4000);
    expect(await r.pttl(`oncelock:{${key}}:grants`)).toBeGreaterThan(4000);
    expect(await b.release({ key, owner, limit: 2 })).toBe(true);
    expect(await r.exists(permitsKey(key), `oncelock:{${key}}:grants`)).toBe(0);
  });

  it('a refusal says which limit the key is held under, both ways', async () => {
    const b = open();
    const key = unique('mismatch');
    const plain = newToken();
    expect((await b.acquire({ key, owner: plain, ttl: 5000 })).granted).toBe(true);
    expect(await b.acquire({ key, owner: newToken(), ttl: 5000, limit: 3 })).toMatchObject({
      granted: false,
      limit: 1,
      holder: { owner: plain },
    });
    expect(await b.release({ key, owner: plain })).toBe(true);
    const permit = newToken();
    expect((await b.acquire({ key, owner: permit, ttl: 5000, limit: 3 })).granted).toBe(true);
    expect(await b.acquire({ key, owner: newToken(), ttl: 5000 })).toMatchObject({
      granted: false,
      limit: 3,
      holder: { owner: permit, limit: 3 },
    });
    // A lease's refusal by a lease carries no limit: the plain path is as it was.
    expect(await b.release({ key, owner: permit, limit: 3 })).toBe(true);
    expect((await b.acquire({ key, owner: plain, ttl: 5000 })).granted).toBe(true);
    expect(await b.acquire({ key, owner: newToken(), ttl: 5000 })).not.toHaveProperty('limit');
    // Nor does a permit's extend or release touch a lease of the same owner.
    expect(await b.extend({ key, owner: plain, ttl: 5000, limit: 3 })).toBe(false);
    expect(await b.release({ key, owner: plain, limit: 3 })).toBe(false);
    expect(await b.release({ key, owner: plain })).toBe(true);
  });

  it('fences strictly increase per key across leases and permits', async () => {
    const b = open();
    const key = unique('fences');
    const fences: number[] = [];
    for (const limit of [undefined, 3, 3, undefined, 2, undefined]) {
      const l = await lease(b, key, limit === undefined ? { ttl: 5000 } : { ttl: 5000, limit });
      fences.push(l.fence);
      await l.release();
    }
    // Permits held together, too.
    const together = await Promise.all([1, 2, 3].map(() => lease(b, key, { ttl: 5000, limit: 3 })));
    fences.push(...together.map((l) => l.fence).sort((x, y) => x - y));
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    await Promise.all(together.map((l) => l.release()));
  });

  it('extendMany batches leases and permits in one call, answering each in order', async () => {
    const b = open();
    const owner = newToken();
    const keys = Array.from({ length: 6 }, (_, i) => unique(`batch-${i}`));
    const limitOf = (i: number) => (i % 2 === 0 ? undefined : 2);
    for (const [i, key] of keys.entries()) {
      const limit = limitOf(i);
      await b.acquire(limit === undefined ? { key, owner, ttl: 500 } : { key, owner, ttl: 500, limit });
    }
    const requests = keys.map((key, i) => {
      const limit = limitOf(i);
      const who = i === 3 || i === 4 ? newToken() : owner;
      return limit === undefined ? { key, owner: who, ttl: 5000 } : { key, owner: who, ttl: 5000, limit };
    });
    expect(await b.extendMany(requests)).toEqual(keys.map((_, i) => i !== 3 && i !== 4));
    await delay(700); // past the first TTL: only the extended ones are still held
    const held = (await b.list('batch-')).filter((h) => keys.includes(h.key));
    expect(held.map((h) => h.key).sort()).toEqual(keys.filter((_, i) => i !== 3 && i !== 4).sort());
    expect(held.filter((h) => h.limit === 2).length).toBe(2);
    await Promise.all(
      keys.map((key, i) => {
        const limit = limitOf(i);
        return b.release(limit === undefined ? { key, owner } : { key, owner, limit });
      }),
    );
  });

  it('a released permit wakes the waiter that has waited longest, once', async () => {
    const holderBackend = open();
    const key = unique('wake-permit');
    const held = await Promise.all([1, 2].map(() => lease(holderBackend, key, { ttl: 30_000, limit: 2 })));
    const queued = () => r.zcard(`oncelock:{${key}}:waiters`);
    const order: number[] = [];
    const waits: Array<Promise<Lease>> = [];
    for (const i of [0, 1, 2]) {
      const before = await queued();
      const waiting = lease(open(), key, { ttl: 30_000, limit: 2, wait: 20_000 });
      waits.push(
        waiting.then((l) => {
          order.push(i);
          return l;
        }),
      );
      while ((await queued()) === before) await delay(2);
    }
    const releasedAt = performance.now();
    await held[0]!.release();
    const first = await Promise.race(waits);
    // Woken by the release, far below the ~1 s fallback poll.
    expect(performance.now() - releasedAt).toBeLessThan(500);
    await delay(100);
    expect(order).toEqual([0]);
    // One release at a time: two woken at once may finish their acquires in either order.
    await held[1]!.release();
    const second = await Promise.race(waits.slice(1));
    expect(order).toEqual([0, 1]);
    await first.release();
    const third = await waits[2]!;
    expect(order).toEqual([0, 1, 2]);
    await Promise.all([second.release(), third.release()]);
  });
});

// acquire-5.lua reads a key's permits in one ZRANGE under a limit up to 16, and by parts above.
describe.each([3, 20])('the permits of a key under limit %i', (limit) => {
  it('are pruned, refuse by the one that ends first, re-enter, and keep their keys as long as the last', async () => {
    const b = open();
    const key = unique(`span-${limit}`);
    const owners = Array.from({ length: limit }, () => newToken());
    const fences: number[] = [];
    for (const [i, owner] of owners.entries()) {
      const got = await b.acquire({ key, owner, ttl: i === 0 ? 300 : 5000, limit });
      expect(got.granted).toBe(true);
      if (got.granted) fences.push(got.fence!);
    }
    const late = newToken();
    expect(await b.acquire({ key, owner: late, ttl: 8000, limit })).toMatchObject({
      granted: false,
      limit,
      holder: { owner: owners[0], fence: fences[0], limit },
    });
    await delay(400); // the first permit's TTL has run out on the server's clock
    expect(await b.acquire({ key, owner: late, ttl: 8000, limit })).toMatchObject({ granted: true });
    expect(await r.zscore(permitsKey(key), owners[0]!)).toBeNull();
    expect(await r.pttl(permitsKey(key))).toBeGreaterThan(6000);
    // Re-entry keeps the fence; a shorter TTL does not cut the keys short of the last permit.
    expect(await b.acquire({ key, owner: owners[1]!, ttl: 1000, limit })).toEqual({
      granted: true,
      fence: fences[1],
    });
    expect(await r.pttl(permitsKey(key))).toBeGreaterThan(6000);
    expect(await r.pttl(`oncelock:{${key}}:grants`)).toBeGreaterThan(6000);
    // The release of the permit that ends last moves the keys back to the one that now does.
    expect(await b.release({ key, owner: late, limit })).toBe(true);
    expect(await r.pttl(permitsKey(key))).toBeLessThanOrEqual(5000);
    expect(await r.pttl(permitsKey(key))).toBeGreaterThan(3000);
    expect(await b.release({ key, owner: late, limit })).toBe(false);
    for (const owner of owners.slice(1)) expect(await b.release({ key, owner, limit })).toBe(true);
    expect(await r.exists(permitsKey(key), `oncelock:{${key}}:grants`)).toBe(0);
    expect(await r.pttl(`oncelock:{${key}}:fence`)).toBeGreaterThan(3000);
  });
});
