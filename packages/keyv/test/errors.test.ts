// Store failures reach the caller as typed errors; nothing reads a failure as "free".
import KeyvPostgres from '@keyv/postgres';
import KeyvRedis from '@keyv/redis';
import { newToken } from '@oncelock/core/backend';
import { startTcpProxy, type TcpProxy } from '@oncelock/testkit/faults';
import { freePort, postgresUrl, redisUrl } from '@oncelock/testkit/servers';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError, keyvBackend, LockNotAcquiredError, lease } from '../src/index.js';

const redisKeyv = (url: string) =>
  new Keyv(new KeyvRedis(url, { throwOnErrors: true, namespace: `oncelock-keyv-errors-${process.pid}` }), {
    throwOnErrors: true,
    useKeyPrefix: false,
  });

async function failure(p: Promise<unknown>): Promise<BackendUnavailableError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendUnavailableError);
  expect((error as Error).message).toMatch(/^\[@oncelock\/keyv keyv\]/);
  return error as BackendUnavailableError;
}

describe('store errors throw', () => {
  // @keyv/redis keeps reconnecting and queues commands meanwhile: a bare Keyv call would wait forever.
  it('an unreachable Redis fails acquire with BackendUnavailableError at the timeout', async () => {
    const store = redisKeyv(`redis://127.0.0.1:${await freePort()}`);
    const backend = keyvBackend({ store, timeout: 2000, closeStore: true });
    const error = await failure(backend.acquire({ key: 'k', owner: newToken(), ttl: 1000 }));
    expect(error.code).toBe('ONCELOCK_BACKEND_UNAVAILABLE');
    await backend.close().catch(() => {});
  });

  describe('through a TCP proxy', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy({ targetPort: 6379 });
    });
    afterAll(() => proxy.close());

    it('why the backend insists on throwOnErrors: a default Keyv reads a failed call as an empty key', async () => {
      const careless = new Keyv(new KeyvRedis(proxy.url(redisUrl)));
      await careless.get('warm-up'); // connected
      proxy.setLatency(200);
      const pending = careless.get('lock');
      await new Promise((r) => setTimeout(r, 50));
      proxy.reset();
      proxy.setLatency(0);
      expect(await pending).toBeUndefined(); // no error, and no event anyone heard
      await careless.disconnect().catch(() => {});
    });

    it('a store slower than settle × confirmations is an error that names settle, not a stale decision', async () => {
      proxy.setLatency(15); // a 30 ms round trip, against the default 10 ms freshness bound
      try {
        const slow = keyvBackend({ store: redisKeyv(proxy.url(redisUrl)), closeStore: true });
        const key = `slow:${newToken()}`;
        const error = await failure(slow.acquire({ key, owner: newToken(), ttl: 5000 }));
        expect(error.message).toMatch(/settle/);
        expect(await slow.inspect(key)).toBeNull(); // nothing was written on a stale read
        await slow.close();
        const patient = keyvBackend({ store: redisKeyv(proxy.url(redisUrl)), settle: 40, closeStore: true });
        const owner = newToken();
        expect(await patient.acquire({ key, owner, ttl: 5000 })).toEqual({ granted: true });
        expect(await patient.extend({ key, owner, ttl: 5000 })).toBe(true);
        expect(await patient.release({ key, owner })).toBe(true);
        await patient.close();
      } finally {
        proxy.setLatency(0);
      }
    });

    it('a partition makes calls time out with a typed error, and they work again once it heals', async () => {
      const store = redisKeyv(proxy.url(redisUrl));
      const backend = keyvBackend({ store, timeout: 300, closeStore: true });
      const key = `partition:${newToken()}`;
      const l = await lease(backend, key, { ttl: 5000, autoExtend: false });
      proxy.blackhole(true);
      const error = await failure(backend.inspect(key));
      expect(error.message).toMatch(/inspect failed: got no answer within 300 ms/);
      await failure(lease(backend, key, { ttl: 5000 }));
      proxy.blackhole(false);
      expect((await backend.inspect(key))?.owner).toBe(l.token);
      expect(await l.release()).toBe(true);
      await backend.close();
    });

    it('a reset connection fails the call in flight instead of reporting the key free', async () => {
      const store = redisKeyv(proxy.url(redisUrl));
      const backend = keyvBackend({ store, timeout: 2000, closeStore: true });
      const key = `reset:${newToken()}`;
      await backend.inspect(key); // connected
      proxy.setLatency(200); // keep the next call in flight while the connection dies
      const pending = backend.acquire({ key, owner: newToken(), ttl: 1000 });
      await new Promise((r) => setTimeout(r, 50));
      proxy.reset();
      proxy.setLatency(0);
      await failure(pending);
      await backend.close().catch(() => {});
    });
  });

  it('a Postgres error (a key longer than the column) is thrown with its cause', async () => {
    const table = `oncelock_keyv_errors_${process.pid}`;
    const adapter = new KeyvPostgres({ uri: postgresUrl, table }); // default column: 255 characters
    const backend = keyvBackend({ store: new Keyv(adapter, { throwOnErrors: true }) });
    try {
      const error = await failure(backend.acquire({ key: 'k'.repeat(400), owner: newToken(), ttl: 1000 }));
      expect(String((error.cause as Error).message)).toMatch(/too long/);
      const ok = await backend.acquire({ key: 'short', owner: newToken(), ttl: 1000 });
      expect(ok.granted).toBe(true);
    } finally {
      await adapter.query(`DROP TABLE IF EXISTS public.${table}`);
      await adapter.disconnect();
    }
  });

  it('a value this package did not write is an error, not a holder or a free key', async () => {
    const store = new Keyv({ throwOnErrors: true });
    await store.set('oncelock:{job}', 'cached html');
    const backend = keyvBackend({ store });
    const error = await failure(lease(backend, 'job', { ttl: 1000 }));
    expect(error.message).toMatch(/prefix/);
    // Another prefix keeps the lock keys apart from the cache's.
    const apart = keyvBackend({ store, prefix: 'locks:' });
    const l = await lease(apart, 'job', { ttl: 1000 });
    await expect(lease(apart, 'job', { ttl: 1000 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    expect(await store.get('oncelock:{job}')).toBe('cached html');
    expect((await store.get('locks:{job}')) as { owner: string }).toMatchObject({ owner: l.token });
    await l.release();
  });
});
