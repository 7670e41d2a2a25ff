import { newToken } from '@oncelock/core/backend';
import {
  BackendClosedError,
  BackendUnavailableError,
  InvalidArgumentError,
  lease,
  redisBackend,
  redlockBackend,
} from '@oncelock/redis';
import { delay } from '@oncelock/testkit';
import { freePort, type RedisServer, redisUrl, startRedisServer } from '@oncelock/testkit/servers';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, unique } from './helpers.js';

const shared = redisUrl;

/** Names of the connections open on the shared Redis. */
async function connectionNames(): Promise<string[]> {
  const list = (await raw(shared).client('LIST')) as string;
  return list.split('\n').flatMap((line) => line.match(/ name=(\S+)/)?.[1] ?? []);
}

describe('options', () => {
  it('bad options fail at once with a typed error naming the package', () => {
    const client = raw(shared);
    const prefixed = new Redis(shared, { keyPrefix: 'app:', lazyConnect: true });
    for (const bad of [
      undefined,
      null,
      'redis://127.0.0.1',
      {},
      { url: shared, client },
      { url: 'http://127.0.0.1:6379' },
      { url: 42 },
      { url: shared, prefix: 'a{b}' },
      { url: shared, prefix: '' },
      { url: shared, prefix: 7 },
      { url: shared, fenceRetention: 0 },
      { url: shared, fenceRetention: 1.5 },
      { url: shared, timeout: 'soon' },
      { url: shared, redis: 'fast' },
      { client: {} },
      { client: prefixed },
      { cluster: [] },
    ]) {
      let error: unknown;
      try {
        redisBackend(bad as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/^\[@oncelock\/redis\]/);
    }
  });

  it('an unknown option is refused with the closest name, from JavaScript too; messages name the kind', () => {
    expect(() => redisBackend({ url: shared, timout: 500 } as never)).toThrow(
      /^\[@oncelock\/redis\] redisBackend\(\): unknown option "timout": did you mean "timeout"\?$/,
    );
    const urls = ['redis://127.0.0.1:1', 'redis://127.0.0.1:2', 'redis://127.0.0.1:3'];
    expect(() => redlockBackend({ urls, driftfactor: 0.1 } as never)).toThrow(/did you mean "driftFactor"\?/);
    expect(() => redisBackend({ url: shared, fenceRetention: 5 })).toThrow(
      /fenceRetention must be a duration: a whole number of milliseconds from 1000 to/,
    );
    expect(() => redlockBackend({ urls: urls.slice(1) })).toThrow(
      /urls must be an array of 3 or more URLs, one per independent primary .*, got an array of 2$/,
    );
    expect(() => redlockBackend({ urls: [urls[0]!, urls[1]!, 'http://x'] })).toThrow(
      /urls\[2\] must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/x"/,
    );
  });

  it('a client passed in stays open after close(); the backend closes only what it made', async () => {
    const name = `oncelock-own-${newToken().slice(0, 8)}`;
    const client = new Redis(shared, { connectionName: name });
    const b = redisBackend({ client });
    const key = unique('own');
    await b.inspect(key);
    await b.subscribe(key, () => {}); // made on the first wait: one more connection
    // The subscriber is a duplicate of the user's client, so it carries the same name.
    expect((await connectionNames()).filter((n) => n === name).length).toBe(2);
    await b.close();
    await delay(50);
    expect(await client.ping()).toBe('PONG');
    expect((await connectionNames()).filter((n) => n === name).length).toBe(1);
    await client.quit();

    const made = `oncelock-made-${newToken().slice(0, 8)}`;
    const own = redisBackend({ url: shared, redis: { connectionName: made } });
    await own.inspect(key);
    expect(await connectionNames()).toContain(made);
    await own.close();
    await delay(50);
    expect(await connectionNames()).not.toContain(made);
  });

  it('one subscriber connection per backend, however many waiters', async () => {
    const name = `oncelock-sub-${newToken().slice(0, 8)}`;
    const holderBackend = redisBackend({ url: shared });
    const b = redisBackend({ url: shared, redis: { connectionName: name } });
    const keys = Array.from({ length: 20 }, (_, i) => unique(`many-${i}`));
    const held = await Promise.all(keys.map((k) => lease(holderBackend, k, { ttl: 10_000 })));
    const waiting = keys.map((k) => lease(b, k, { ttl: 1000, wait: 10_000 }));
    await delay(300);
    expect((await connectionNames()).filter((n) => n === name).length).toBe(2);
    await Promise.all(held.map((l) => l.release()));
    const got = await Promise.all(waiting);
    await Promise.all(got.map((l) => l.release()));
    await Promise.all([b.close(), holderBackend.close()]);
  });

  it('a waiter wakes within a few ms of a release on another connection', async () => {
    const a = redisBackend({ url: shared });
    const b = redisBackend({ url: shared });
    const handoffs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const key = unique('wake');
      const held = await lease(a, key, { ttl: 10_000 });
      const waiting = lease(b, key, { ttl: 1000, wait: 10_000 });
      await delay(50);
      const releasedAt = performance.now();
      await held.release();
      const next = await waiting;
      handoffs.push(performance.now() - releasedAt);
      await next.release();
    }
    handoffs.sort((x, y) => x - y);
    // The fallback poll is ~1 s: a median far below it means notifications, not polling, woke them.
    expect(handoffs[5]!).toBeLessThan(50);
    await Promise.all([a.close(), b.close()]);
  });

  describe('auth and unreachable servers', () => {
    let secured: RedisServer;
    beforeAll(async () => {
      secured = await startRedisServer({ args: ['--requirepass', 's3cret'] });
    });
    afterAll(() => secured?.stop());

    it('passes auth straight to ioredis: the right password works, a wrong one is a typed error', async () => {
      const ok = redisBackend({ url: `redis://:s3cret@127.0.0.1:${secured.port}` });
      const viaOptions = redisBackend({ url: secured.url, redis: { password: 's3cret' } });
      const wrong = redisBackend({ url: secured.url, redis: { password: 'nope' }, timeout: 500 });
      const owner = newToken();
      const key = unique('auth');
      expect((await ok.acquire({ key, owner, ttl: 1000 })).granted).toBe(true);
      expect((await viaOptions.inspect(key))?.owner).toBe(owner);
      await expect(wrong.acquire({ key, owner, ttl: 1000 })).rejects.toBeInstanceOf(BackendUnavailableError);
      await Promise.all([ok.close(), viaOptions.close(), wrong.close()]);
    });

    it('nothing listening: calls fail with BackendUnavailableError within the timeout, never hang', async () => {
      const port = await freePort();
      const b = redisBackend({ url: `redis://127.0.0.1:${port}`, timeout: 300 });
      const started = performance.now();
      const error = await lease(b, unique('down'), { ttl: 1000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      // The cause first, where a person reads: not ioredis's "Stream isn't writeable".
      expect((error as BackendUnavailableError).message).toMatch(
        new RegExp(
          `^\\[@oncelock/redis redis\\] acquire failed: cannot reach Redis at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`,
        ),
      );
      expect(((error as Error).cause as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
      expect(performance.now() - started).toBeLessThan(2000);
      await expect(b.subscribe('k', () => {})).rejects.toBeInstanceOf(BackendUnavailableError);
      await b.close();
    });
  });

  it('after close(), every method rejects with BackendClosedError; a call in flight ends typed', async () => {
    const b = redisBackend({ url: shared });
    const key = unique('closed');
    const inFlight = b.acquire({ key, owner: newToken(), ttl: 1000 }).catch((e: unknown) => e);
    await b.close();
    const first = await inFlight;
    expect(first instanceof BackendClosedError || (first as { granted?: boolean }).granted === true).toBe(
      true,
    );
    const calls = [
      b.acquire({ key, owner: 'x', ttl: 1000 }),
      b.extend({ key, owner: 'x', ttl: 1000 }),
      b.extendMany([{ key, owner: 'x', ttl: 1000 }]),
      b.release({ key, owner: 'x' }),
      b.inspect(key),
      b.list(),
      b.subscribe(key, () => {}),
    ];
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(BackendClosedError);
  });
});
