import { newToken } from '@oncelock/core/backend';
import { BackendUnavailableError, lease, redisBackend } from '@oncelock/redis';
import { delay } from '@oncelock/testkit';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// Fences are checked on a redis-server of our own: the tests restart it and write fence records by hand.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

const backend = (extra: { fenceRetention?: number } = {}) => redisBackend({ url: server.url, ...extra });

describe('fences', () => {
  it('never go backwards across a restart that loses every key', async () => {
    const b = backend();
    const key = unique('restart');
    const before: number[] = [];
    for (let i = 0; i < 5; i++) {
      const l = await lease(b, key, { ttl: 5000 });
      before.push(l.fence);
      await l.release();
    }
    await server.restart();
    expect(await raw(server.url).dbsize()).toBe(0);
    // The client may still be between reconnection attempts: a wait rides that out, as it would
    // for a user (a fixed pause once was shorter than ioredis's backoff on a loaded machine).
    const after = await lease(b, key, { ttl: 5000, wait: 10_000 });
    expect(after.fence).toBeGreaterThan(Math.max(...before));
    expect(Number.isSafeInteger(after.fence)).toBe(true);
    await after.release();
    await b.close();
  });

  it('are kept beside the lock and forgotten some time after it: no record per key forever', async () => {
    const b = backend({ fenceRetention: 1000 });
    const r = raw(server.url);
    const key = unique('retention');
    const l = await lease(b, key, { ttl: 2000, autoExtend: false });
    // While held, the record outlives the lock by the retention.
    const [lockTtl, recordTtl] = await Promise.all([
      r.pttl(`oncelock:{${key}}`),
      r.pttl(`oncelock:{${key}}:fence`),
    ]);
    expect(recordTtl - lockTtl).toBeGreaterThan(900);
    expect(recordTtl - lockTtl).toBeLessThanOrEqual(1000);
    expect(await r.get(`oncelock:{${key}}:fence`)).toBe(String(l.fence));
    await l.release();
    expect(await r.exists(`oncelock:{${key}}`)).toBe(0);
    // A release leaves the record as it was: it outlives the release by the retention at least,
    // and the lock's TTL as granted by the retention at most.
    const left = await r.pttl(`oncelock:{${key}}:fence`);
    expect(left).toBeGreaterThan(900);
    expect(left).toBeLessThanOrEqual(3000);
    await delay(left + 100);
    expect(await r.exists(`oncelock:{${key}}:fence`)).toBe(0);
    // With the record gone the server clock alone still puts the next fence ahead.
    const next = await lease(b, key, { ttl: 2000 });
    expect(next.fence).toBeGreaterThan(l.fence);
    await next.release();
    await b.close();
  });

  it('follow the record when it runs ahead of the server clock (bursts, a clock stepped back)', async () => {
    const b = backend();
    const r = raw(server.url);
    const key = unique('ahead');
    const [seconds] = await r.time();
    const ahead = (Number(seconds) + 3600) * 1_000_000; // an hour ahead of the server clock
    await r.set(`oncelock:{${key}}:fence`, String(ahead), 'PX', 60_000);
    const owner = newToken();
    expect(await b.acquire({ key, owner, ttl: 1000 })).toEqual({ granted: true, fence: ahead + 1 });
    expect(await b.release({ key, owner })).toBe(true);
    expect(await b.acquire({ key, owner, ttl: 1000 })).toEqual({ granted: true, fence: ahead + 2 });
    await b.close();
  });

  it('refuse to pass 2^53 with a typed error instead of handing out an inexact fence', async () => {
    const b = backend();
    const r = raw(server.url);
    const key = unique('overflow');
    await r.set(`oncelock:{${key}}:fence`, String(Number.MAX_SAFE_INTEGER - 1), 'PX', 60_000);
    const error = await b.acquire({ key, owner: newToken(), ttl: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain('safe integer');
    expect(await r.exists(`oncelock:{${key}}`)).toBe(0);
    await b.close();
  });

  it('are microseconds of server time, so they also order grants across keys', async () => {
    const b = backend();
    const r = raw(server.url);
    const [seconds, micros] = await r.time();
    const serverNow = Number(seconds) * 1_000_000 + Number(micros);
    const l1 = await lease(b, unique('a'), { ttl: 1000 });
    const l2 = await lease(b, unique('b'), { ttl: 1000 });
    expect(l1.fence).toBeGreaterThanOrEqual(serverNow);
    expect(l2.fence).toBeGreaterThan(l1.fence);
    expect(l2.fence - serverNow).toBeLessThan(60_000_000);
    await Promise.all([l1.release(), l2.release()]);
    await b.close();
  });
});
