// What is particular to the Keyv backend, beyond the shared contract.
import type KeyvRedis from '@keyv/redis';
import { newToken } from '@oncelock/core/backend';
import { delay } from '@oncelock/testkit';
import Keyv from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendClosedError, keyvBackend } from '../src/index.js';
import { allStores, redisStore } from './stores.js';

for (const makeStore of allStores) {
  const store = makeStore();
  describe(`keyvBackend over ${store.name}`, () => {
    afterAll(() => store.cleanup());

    it('re-acquiring by the same owner keeps `since` and restarts the TTL', async () => {
      const b = keyvBackend({ store: store.keyv(), ...store.tuning });
      const key = `reentrant:${newToken()}`;
      const owner = newToken();
      expect(await b.acquire({ key, owner, ttl: 1000 })).toEqual({ granted: true });
      const first = await b.inspect(key);
      await delay(400);
      const aged = await b.inspect(key);
      expect(aged!.ttlRemaining!).toBeLessThan(first!.ttlRemaining! - 300);
      expect(await b.acquire({ key, owner, ttl: 1000 })).toEqual({ granted: true });
      const again = await b.inspect(key);
      expect(again!.ttlRemaining!).toBeGreaterThan(aged!.ttlRemaining! + 300);
      expect(again!.since).toBe(first!.since);
      expect(await b.release({ key, owner })).toBe(true);
    });

    it('a refusal names the holder, its TTL left and since when it holds the key', async () => {
      const b = keyvBackend({ store: store.keyv(), ...store.tuning });
      const key = `refusal:${newToken()}`;
      const owner = newToken();
      const before = Date.now();
      await b.acquire({ key, owner, ttl: 2000 });
      const r = await b.acquire({ key, owner: newToken(), ttl: 2000 });
      expect(r.granted).toBe(false);
      const holder = !r.granted ? r.holder : undefined;
      expect(holder?.owner).toBe(owner);
      expect(holder?.ttlRemaining).toBeGreaterThan(1000);
      expect(holder?.ttlRemaining).toBeLessThanOrEqual(2000);
      expect(holder?.since).toBeGreaterThanOrEqual(before);
      expect(holder?.fence).toBeUndefined();
      await b.release({ key, owner });
    });
  });
}

describe('near expiry', () => {
  // A large settle makes "too close to expiry to write safely" a wide, easy-to-hit window.
  const store = new Keyv({ throwOnErrors: true });
  const b = keyvBackend({ store, settle: 900, confirmations: 0 });

  it('extend refuses when the entry would lapse before the write lands, and changes nothing', async () => {
    const owner = newToken();
    await b.acquire({ key: 'late-extend', owner, ttl: 1000 });
    await delay(300); // 700 ms left, under the 900 ms settle
    expect(await b.extend({ key: 'late-extend', owner, ttl: 5000 })).toBe(false);
    const h = await b.inspect('late-extend');
    expect(h?.owner).toBe(owner);
    expect(h!.ttlRemaining!).toBeLessThan(800);
  });

  it('release then lets the entry lapse instead of deleting what may already be a new holder', async () => {
    const owner = newToken();
    await b.acquire({ key: 'late-release', owner, ttl: 1000 });
    await delay(300);
    expect(await b.release({ key: 'late-release', owner })).toBe(true);
    expect((await b.inspect('late-release'))?.owner).toBe(owner);
    await delay(800);
    expect(await b.inspect('late-release')).toBeNull();
  });
});

describe('TTL in the store and close()', () => {
  const store = redisStore();
  afterAll(() => store.cleanup());

  it('Redis holds the entry with the TTL, so a crashed holder leaves nothing behind', async () => {
    const keyv = store.keyv();
    const b = keyvBackend({ store: keyv, closeStore: true });
    const owner = newToken();
    await b.acquire({ key: 'pttl', owner, ttl: 3000 });
    const adapter = keyv.store as KeyvRedis<unknown>;
    const client = await adapter.getClient();
    const pttl = await client.pTTL(adapter.createKeyPrefix('oncelock:{pttl}', adapter.namespace));
    expect(pttl).toBeGreaterThan(2000);
    expect(pttl).toBeLessThanOrEqual(3000);
    await b.release({ key: 'pttl', owner });
    await b.close();
  });

  it('close() leaves a Keyv it was given open, unless closeStore', async () => {
    const keyv = store.keyv();
    const b = keyvBackend({ store: keyv });
    await b.inspect('x'); // connected
    await b.close();
    await b.close();
    await expect(b.acquire({ key: 'x', owner: newToken(), ttl: 1000 })).rejects.toBeInstanceOf(
      BackendClosedError,
    );
    await keyv.set('still-open', 1);
    expect(await keyv.get('still-open')).toBe(1);
    const owning = keyvBackend({ store: keyv, closeStore: true });
    await owning.close();
    expect((keyv.store as KeyvRedis<unknown>).client.isOpen).toBe(false);
  });
});
