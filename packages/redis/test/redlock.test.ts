import { newToken } from '@oncelock/core/backend';
import {
  BackendUnavailableError,
  CapabilityUnsupportedError,
  LockLostError,
  LockNotAcquiredError,
  lease,
  redisBackend,
  redlockBackend,
} from '@oncelock/redis';
import { aborted, delay } from '@oncelock/testkit';
import { startTcpProxy, type TcpProxy } from '@oncelock/testkit/faults';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { afterEach, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// Every test gets its own independent redis-server processes (they start in a few ms), so that
// killing and freezing nodes never leaks into the next test.
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f().catch(() => {})));
});

async function nodes(count: number): Promise<RedisServer[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => startRedisServer()));
  cleanup.push(...servers.map((s) => () => s.stop()));
  return servers;
}

function redlock(urls: string[], timeout?: number) {
  const b = redlockBackend({ urls, ...(timeout ? { timeout } : {}) });
  cleanup.push(() => b.close());
  return b;
}

/** What one node alone holds for `key`, through a plain single-node backend with the same prefix. */
function single(server: RedisServer) {
  const b = redisBackend({ url: server.url });
  cleanup.push(() => b.close());
  return b;
}

describe('redlock', () => {
  it('declares quorum exclusion, no fences and no notifications, and refuses to make fences', async () => {
    const servers = await nodes(3);
    const b = redlock(servers.map((s) => s.url));
    expect(b.guarantees).toMatchObject({ exclusion: 'quorum', fencing: false, releaseNotifications: false });
    expect(b.subscribe).toBeUndefined();
    const owner = newToken();
    expect(await b.acquire({ key: unique('f'), owner, ttl: 1000 })).toEqual({ granted: true });
    const l = await lease(b, unique('f'), { ttl: 1000 });
    expect(() => l.fence).toThrow(CapabilityUnsupportedError);
    await expect(lease(b, unique('f'), { ttl: 1000, require: { fencing: true } })).rejects.toBeInstanceOf(
      CapabilityUnsupportedError,
    );
    await expect(
      lease(b, unique('f'), { ttl: 1000, require: { exclusion: 'strict' } }),
    ).rejects.toBeInstanceOf(CapabilityUnsupportedError);
    await l.release();
  });

  for (const [count, survivable] of [
    [3, 1],
    [5, 2],
  ] as const) {
    it(`over ${count} nodes, still grants, extends and releases with ${survivable} killed`, async () => {
      const servers = await nodes(count);
      const a = redlock(servers.map((s) => s.url));
      const b = redlock(servers.map((s) => s.url));
      await Promise.all(servers.slice(0, survivable).map((s) => s.stop()));
      const key = unique('minority');
      const l = await lease(a, key, { ttl: 1000 });
      await expect(lease(b, key, { ttl: 1000 })).rejects.toBeInstanceOf(LockNotAcquiredError);
      await delay(1300); // past its first TTL: the heartbeat extended it on the surviving majority
      expect(l.signal.aborted).toBe(false);
      expect((await b.inspect(key))?.owner).toBe(l.token);
      expect(await l.release()).toBe(true);
      const next = await lease(b, key, { ttl: 1000 });
      await next.release();
    });

    it(`over ${count} nodes, refuses cleanly with ${survivable + 1} killed: a typed error, no stray lock`, async () => {
      const servers = await nodes(count);
      const a = redlock(servers.map((s) => s.url));
      const key = unique('noquorum');
      const l = await lease(a, key, { ttl: 800 });
      const down = servers.slice(0, survivable + 1);
      const up = servers.slice(survivable + 1);
      await Promise.all(down.map((s) => s.stop()));
      await expect(lease(a, unique('other'), { ttl: 1000 })).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(a.inspect(key)).rejects.toBeInstanceOf(BackendUnavailableError);
      // The held lease cannot be confirmed by a majority any more: its signal fires by its TTL.
      expect(await aborted(l.signal)).toBeInstanceOf(LockLostError);
      // A refused acquire leaves nothing behind on the nodes that did answer.
      const owner = newToken();
      const other = unique('stray');
      await expect(a.acquire({ key: other, owner, ttl: 5000 })).rejects.toBeInstanceOf(
        BackendUnavailableError,
      );
      await delay(50);
      for (const s of up) expect(await single(s).inspect(other)).toBeNull();
    });
  }

  it('refuses a split vote, names a holder, and undoes its own minority grants', async () => {
    const servers = await nodes(3);
    const b = redlock(servers.map((s) => s.url));
    const key = unique('split');
    const [x, y, z] = [newToken(), newToken(), newToken()];
    await single(servers[0]!).acquire({ key, owner: x, ttl: 5000 });
    await single(servers[1]!).acquire({ key, owner: y, ttl: 5000 });
    const r = await b.acquire({ key, owner: z, ttl: 5000 });
    expect(r.granted).toBe(false);
    if (!r.granted) expect([x, y]).toContain(r.holder?.owner);
    await delay(50);
    expect(await single(servers[2]!).inspect(key)).toBeNull();
    expect(await b.inspect(key)).toBeNull(); // no owner holds a majority
  });

  it('is not blocked by a stray lock on a minority of nodes', async () => {
    const servers = await nodes(3);
    const b = redlock(servers.map((s) => s.url));
    const key = unique('stray');
    await single(servers[0]!).acquire({ key, owner: newToken(), ttl: 30_000 });
    const l = await lease(b, key, { ttl: 1000 });
    expect((await b.inspect(key))?.owner).toBe(l.token);
    expect((await b.list('stray:')).map((h) => h.owner)).toEqual([l.token]);
    await l.release();
  });

  it('counts a grant only if it came back within TTL minus drift, and then gives it back', async () => {
    const servers = await nodes(3);
    const proxies: TcpProxy[] = await Promise.all(servers.map((s) => startTcpProxy({ targetPort: s.port })));
    cleanup.push(...proxies.map((p) => () => p.close()));
    const b = redlock(proxies.map((p) => p.url('redis')));
    await b.inspect(unique('warm')); // connect before the latency starts
    for (const p of proxies) p.setLatency(60); // every round trip now takes at least 120 ms
    const key = unique('drift');
    const owner = newToken();
    // Each node grants, but by the time a majority has answered, a 100 ms lock is no longer valid.
    expect(await b.acquire({ key, owner, ttl: 100 })).toEqual({ granted: false });
    await expect(lease(b, key, { ttl: 100 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    for (const p of proxies) p.setLatency(0);
    await delay(300);
    for (const s of servers) expect(await raw(s.url).exists(`oncelock:{${key}}`)).toBe(0);
    // With room to spare, the same latency is fine.
    for (const p of proxies) p.setLatency(60);
    expect(await b.acquire({ key, owner, ttl: 2000 })).toEqual({ granted: true });
    for (const p of proxies) p.setLatency(0);
    expect(await b.release({ key, owner })).toBe(true);
  });

  it('waits for no frozen node once a majority has answered: acquire, heartbeat, inspect, release', async () => {
    const servers = await nodes(3);
    const b = redlock(
      servers.map((s) => s.url),
      5000,
    );
    await b.inspect(unique('warm'));
    process.kill(servers[0]!.pid, 'SIGSTOP');
    cleanup.unshift(async () => process.kill(servers[0]!.pid, 'SIGCONT'));
    const started = performance.now();
    const l = await lease(b, unique('frozen'), { ttl: 600 });
    // Far below the 5 s a reply from the frozen node would take to time out.
    expect(performance.now() - started).toBeLessThan(1000);
    await delay(1500); // the heartbeat kept it on the two live nodes, tick after tick
    expect(l.signal.aborted).toBe(false);
    expect((await b.inspect(l.key))?.owner).toBe(l.token);
    const releasing = performance.now();
    expect(await l.release()).toBe(true);
    expect(performance.now() - releasing).toBeLessThan(1000);
    process.kill(servers[0]!.pid, 'SIGCONT');
  });

  it('refuses bad options with a typed error', () => {
    const url = 'redis://127.0.0.1:1';
    for (const bad of [
      {},
      { urls: [url, url.replace(':1', ':2')] },
      { urls: [url, url, url] },
      { urls: ['http://x', url, url] },
      { urls: [url, 'redis://127.0.0.1:2', 'redis://127.0.0.1:3'], clients: [] },
      { urls: [url, 'redis://127.0.0.1:2', 'redis://127.0.0.1:3'], driftFactor: 1 },
    ]) {
      expect(() => redlockBackend(bad as never), JSON.stringify(bad)).toThrowError(/@oncelock\/redis/);
      expect(() => redlockBackend(bad as never)).toThrow(
        expect.objectContaining({ code: 'ONCELOCK_INVALID_ARGUMENT' }),
      );
    }
  });
});
