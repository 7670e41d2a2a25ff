import { lease, redisBackend } from '@oncelock/redis';
import { keySpace } from '@oncelock/redis/lua';
import { eventually } from '@oncelock/testkit';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';
import { matchesReference, shapes } from './rate-reference.js';

// Rate decisions (rate-1.lua) on one primary. A Redis of our own: the tests count the commands
// Redis runs, which other suites' traffic would disturb.
let server: RedisServer;
let r: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  r = raw(server.url);
});
afterAll(() => server?.stop());

const keys = keySpace('oncelock:');
/** The server's clock in ms, as rate-1.lua reads it. */
const serverTime = async () => {
  const [s, us] = await r.time();
  return Number(s) * 1000 + Number(us) / 1000;
};
/** How often Redis has run `command` since it started. */
const calls = async (command: string) =>
  Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await r.info('commandstats'))?.[1] ?? 0);

describe('redis rate limits', () => {
  it('decides as the reference GCRA does, given the same server times', async () => {
    const b = redisBackend({ url: server.url });
    for (const shape of shapes) {
      const tally = await matchesReference({ key: unique('gcra'), ...shape }, 30, b.rateLimit, serverTime);
      // Each shape is asked faster than its rate: both answers are compared.
      expect(tally.granted).toBeGreaterThan(0);
      expect(tally.refused).toBeGreaterThan(0);
    }
    await b.close();
  });

  it('one EVALSHA per decision; a refusal writes nothing', async () => {
    const b = redisBackend({ url: server.url });
    const key = unique('one-call');
    const request = { key, limit: 1, per: 60_000, burst: 0, reserve: 0 };
    await b.rateLimit(request); // loads the script (EVALSHA, NOSCRIPT, EVAL) once
    const [evalsha, writes, stored] = [
      await calls('evalsha'),
      await calls('set'),
      await r.get(keys.rate(key)),
    ];
    for (let i = 0; i < 20; i++) expect((await b.rateLimit(request)).allowed).toBe(false);
    expect(await calls('evalsha')).toBe(evalsha + 20);
    expect(await calls('set')).toBe(writes);
    expect(await r.get(keys.rate(key))).toBe(stored);
    await b.close();
  });

  it('keeps fractions of a millisecond: at and delay are not rounded to integers', async () => {
    const b = redisBackend({ url: server.url });
    // 3 per 1000 ms: slots a third of a millisecond apart from whole numbers.
    const request = { key: unique('fractions'), limit: 3, per: 1000, burst: 0, reserve: 5000 };
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await b.rateLimit(request));
    const ats = decisions.map((d) => (d.allowed ? d.at : Number.NaN));
    // Reserved one after the other: each slot exactly one interval after the last.
    for (let i = 1; i < ats.length; i++) expect(ats[i]! - ats[i - 1]!).toBeCloseTo(1000 / 3, 3);
    expect(ats.some((at) => !Number.isInteger(at))).toBe(true);
    await b.close();
  });

  it("keeps a key's rate state apart from its lock, and lets an idle key expire", async () => {
    const b = redisBackend({ url: server.url });
    const key = unique('apart');
    const held = await lease(b, key, { ttl: 10_000 });
    expect((await b.rateLimit({ key, limit: 1, per: 400, burst: 0, reserve: 0 })).allowed).toBe(true);
    expect((await b.inspect(key))?.owner).toBe(held.token);
    await held.release();
    // Stored until its theoretical arrival time (one interval from now) and a millisecond more.
    const pttl = await r.pttl(keys.rate(key));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(401);
    expect(await eventually(async () => (await r.exists(keys.rate(key))) === 0)).toBe(true);
    await b.close();
  });
});
