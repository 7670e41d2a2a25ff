import { newToken } from '@oncelock/core/backend';
import { lease, type RedisBackend, redisBackend } from '@oncelock/redis';
import { keySpace } from '@oncelock/redis/lua';
import { eventually } from '@oncelock/testkit';
import { type RedisCluster, startRedisCluster } from '@oncelock/testkit/servers';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connected, unique } from './helpers.js';
import { matchesReference, shapes } from './rate-reference.js';

// Rate limits, topics and saved state on a real three-primary Redis Cluster of this file's own.
let cluster: RedisCluster;
let raw: Cluster;
const backends: RedisBackend[] = [];
const open = async () => {
  const b = redisBackend({ cluster: [...cluster.nodes] });
  backends.push(b);
  return (await connected(b)) as RedisBackend;
};
beforeAll(async () => {
  cluster = await startRedisCluster({ primaries: 3 });
  raw = new Cluster([...cluster.nodes]);
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await raw?.quit();
  await cluster?.stop();
});

const keys = keySpace('oncelock:');
/** The server clock in ms, as rate-1.lua reads it: every node of this cluster reads the machine's one clock. */
const serverTime = async () => {
  const [s, us] = await raw.time();
  return Number(s) * 1000 + Number(us) / 1000;
};
/** The port of the primary that serves `key`'s rate state, from CLUSTER SLOTS. */
const ownerOf = async (key: string) => {
  const slot = calculateSlot(keys.rate(key));
  const range = (await raw.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
  return range?.[2]?.[1];
};

describe('redis-cluster rate limits, topics and state', () => {
  it('rate decisions match the reference GCRA on keys spread over every primary', async () => {
    const b = await open();
    const ports = new Set<number>();
    for (const [i, shape] of shapes.entries()) {
      for (let j = 0; j < 2; j++) {
        const key = unique(`rate-${i}-${j}`);
        ports.add((await ownerOf(key))!);
        const tally = await matchesReference({ key, ...shape }, 15, b.rateLimit, serverTime);
        expect(tally.granted).toBeGreaterThan(0);
      }
    }
    expect(ports.size).toBeGreaterThan(1);
  });

  it('saves beside the lock in its slot, whatever braces the key holds', async () => {
    const b = await open();
    const tag = unique('s');
    for (const key of [`}${tag}`, `{${tag}}`, `${tag}}{`, `{}${tag}`]) {
      expect(calculateSlot(keys.state(key))).toBe(calculateSlot(keys.lock(key)));
      const l = await lease(b, key, { ttl: 5000 });
      expect(await b.saveState({ key, owner: l.token, fence: l.fence, value: key })).toBe(true);
      expect(await b.saveState({ key, owner: newToken(), fence: l.fence + 1, value: 'no' })).toBe(false);
      expect(await b.loadState(key)).toMatchObject({ value: key, fence: l.fence });
      await l.release();
      expect(await b.saveState({ key, owner: l.token, fence: l.fence, value: 'late' })).toBe(false);
      expect(await b.deleteState(key)).toBe(true);
      expect(await b.loadState(key)).toBeNull();
    }
  });

  it('a notify reaches listeners of other backends, whichever node their subscriber uses', async () => {
    const [sender, ...listeners] = await Promise.all([open(), open(), open(), open()]);
    const topics = Array.from({ length: 6 }, (_, i) => unique(`topic-${i}`));
    const heard = new Map<string, number>();
    for (const topic of topics)
      for (const l of listeners) await l.listen(topic, () => heard.set(topic, (heard.get(topic) ?? 0) + 1));
    for (const topic of topics) await sender.notify(topic);
    expect(await eventually(() => topics.every((t) => heard.get(t) === listeners.length), 10_000)).toBe(true);
  });
});
