import { newToken } from '@oncelock/core/backend';
import {
  BackendUnavailableError,
  LockLostError,
  lease,
  onEvent,
  redisBackend,
  WaitTimeoutError,
} from '@oncelock/redis';
import { aborted, delay } from '@oncelock/testkit';
import { killRedisClients, startTcpProxy, type TcpProxy } from '@oncelock/testkit/faults';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

// Real network faults between the backend and a redis-server of our own: a TCP proxy that
// resets, refuses and black-holes connections, CLIENT KILL, and a restart that loses every key.
let server: RedisServer;
let proxy: TcpProxy;
beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startTcpProxy({ targetPort: server.port });
});
afterEach(async () => {
  // A failed test must not leave the network broken for the next one.
  proxy.blackhole(false);
  await proxy.refuse(false);
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

/** Keeps trying `fn` until it succeeds: the client reconnects with a backoff of its own. */
async function eventually<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await delay(50);
    }
  }
}

/**
 * When the last grant or extension of `key` was requested: the store holds the lock at least a
 * TTL past that. `stop()` stops watching and returns it.
 */
function watchRenewals(key: string) {
  let renewedAt = performance.now(); // before the grant's request, so never later than it
  const off = onEvent('extended', (e) => {
    if (e.key === key) renewedAt = performance.now() - e.tookMs;
  });
  return {
    stop() {
      off();
      return renewedAt;
    },
  };
}

describe('connection faults', () => {
  it('a connection dropped under a held lease: its signal fires before the TTL, and nothing throws', async () => {
    const b = redisBackend({ url: proxy.url('redis'), timeout: 300 });
    const key = unique('dropped');
    const ttl = 2000; // its drift and safety margins leave ~120 ms for a loaded machine's late timers
    // Connect and load the scripts first: on a loaded machine that alone can exceed the 300 ms timeout.
    await eventually(() => b.inspect(key));
    const renewals = watchRenewals(key);
    const l = await lease(b, key, { ttl });
    await proxy.refuse(true);
    proxy.reset(); // every open connection gets a RST; reconnects are refused
    expect(await aborted(l.signal)).toBeInstanceOf(LockLostError);
    // The signal fired while the store still held the lock: nobody else could have it yet.
    expect(performance.now()).toBeLessThan(renewals.stop() + ttl);
    expect(l.held).toBe(false);
    expect(() => l.assertHeld()).toThrow(LockLostError);
    await expect(b.inspect(key)).rejects.toBeInstanceOf(BackendUnavailableError);
    // A lost lease sends nothing on release: its token is no longer its to use.
    expect(await l.release()).toBe(false);
    // The network comes back: the same backend works again.
    await proxy.refuse(false);
    const again = await eventually(() => lease(b, unique('back'), { ttl: 1000 }));
    expect(await again.release()).toBe(true);
    await b.close();
  });

  it('a black-holed connection: calls give up at the timeout and the lease signal fires on time', async () => {
    const b = redisBackend({ url: proxy.url('redis'), timeout: 300 });
    const key = unique('blackhole');
    const renewals = watchRenewals(key);
    const l = await lease(b, key, { ttl: 1500 });
    proxy.blackhole(true);
    const inspect = b.inspect(l.key).catch((e: unknown) => e);
    expect(await aborted(l.signal)).toBeInstanceOf(LockLostError);
    expect(performance.now()).toBeLessThan(renewals.stop() + 1500);
    expect(await inspect).toBeInstanceOf(BackendUnavailableError);
    proxy.blackhole(false); // the held replies arrive late and are dropped without a fuss
    await delay(100);
    await eventually(() => b.inspect(l.key));
    await b.close();
  });

  it('a connection killed by the server (CLIENT KILL) reconnects and a held lease carries on', async () => {
    const name = `oncelock-kill-${newToken().slice(0, 8)}`;
    const b = redisBackend({ url: server.url, redis: { connectionName: name } });
    const l = await lease(b, unique('kill'), { ttl: 600 });
    for (let i = 0; i < 3; i++) {
      expect((await killRedisClients(server.port, { name })).length).toBeGreaterThan(0);
      await delay(250);
    }
    await delay(600); // past the first TTL: only the heartbeat, over new connections, kept it
    expect(l.signal.aborted).toBe(false);
    expect((await b.inspect(l.key))?.owner).toBe(l.token);
    expect(await l.release()).toBe(true);
    await b.close();
  });
});

describe('Redis restarted mid-run', () => {
  it('no fence goes backwards, and the leases the restart lost are reported lost', async () => {
    const own = await startRedisServer();
    try {
      const backends = [0, 1, 2].map(() => redisBackend({ url: own.url, timeout: 500 }));
      const key = unique('restart');
      const longKey = unique('long');
      const long = await lease(backends[0]!, longKey, { ttl: 1000 });
      const grants: Array<{ at: number; fence: number }> = [];
      const unexpected: unknown[] = [];
      let running = true;
      const workers = backends.map(async (b) => {
        while (running) {
          try {
            const l = await lease(b, key, { ttl: 2000, wait: 1000 });
            grants.push({ at: performance.now(), fence: l.fence });
            await delay(10);
            await l.release().catch(() => {});
          } catch (error) {
            // While the server is down, calls fail fast with a typed error; anything else is a bug.
            if (!(error instanceof BackendUnavailableError || error instanceof WaitTimeoutError))
              unexpected.push(error);
            await delay(20);
          }
        }
      });
      const until = async (done: () => boolean) => {
        for (const deadline = performance.now() + 10_000; !done() && performance.now() < deadline; )
          await delay(20);
      };
      await until(() => grants.length >= 5);
      const before = grants.length;
      const restartedAt = performance.now();
      await own.restart();
      expect(await aborted(long.signal)).toBeInstanceOf(LockLostError);
      await until(() => grants.filter((g) => g.at > restartedAt).length >= 5);
      running = false;
      await Promise.all(workers);
      expect(unexpected).toEqual([]);
      const after = grants.filter((g) => g.at > restartedAt);
      expect(before).toBeGreaterThanOrEqual(5);
      expect(after.length).toBeGreaterThanOrEqual(5);
      // In the order they were granted, fences rise strictly: the restart lost every record, and
      // the next fences came from the server clock, ahead of every earlier one.
      for (let i = 1; i < grants.length; i++) expect(grants[i]!.fence).toBeGreaterThan(grants[i - 1]!.fence);
      expect((await raw(own.url).keys('*')).length).toBeLessThan(10);
      await Promise.all(backends.map((b) => b.close()));
    } finally {
      await own.stop();
    }
  });
});
