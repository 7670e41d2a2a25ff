import KeyvRedis from '@keyv/redis';
import { redisUrl } from '@oncelock/testkit/servers';
import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, keyvBackend } from '../src/index.js';

const good = () => new Keyv({ throwOnErrors: true });

describe('keyvBackend options', () => {
  it('refuses what is not a Keyv', () => {
    for (const store of [undefined, null, 42, 'redis://127.0.0.1:6379', {}, new Map()]) {
      expect(() => keyvBackend({ store } as never)).toThrow(InvalidArgumentError);
    }
    expect(() => keyvBackend(undefined as never)).toThrow(InvalidArgumentError);
  });

  it('refuses a Keyv that would swallow store errors, naming the switch', () => {
    expect(() => keyvBackend({ store: new Keyv() })).toThrow(/throwOnErrors: true/);
    const swallowingAdapter = new KeyvRedis(redisUrl); // adapter default: errors emitted, not thrown
    const store = new Keyv(swallowingAdapter, { throwOnErrors: true });
    expect(() => keyvBackend({ store })).toThrow(InvalidArgumentError);
    expect(() => keyvBackend({ store })).toThrow(/adapter/);
  });

  it('accepts a Keyv whose adapter throws too', async () => {
    const store = new Keyv(new KeyvRedis(redisUrl, { throwOnErrors: true }), { throwOnErrors: true });
    const backend = keyvBackend({ store });
    expect(backend.name).toBe('keyv');
    expect(backend.pkg).toBe('@oncelock/keyv');
    await backend.close();
    await store.disconnect();
  });

  it('refuses bad tuning values with a typed error that names the package', () => {
    const bad = [
      { prefix: 7 },
      { settle: -1 },
      { settle: 1.5 },
      { settle: 'soon' },
      { settle: 10_001 },
      { confirmations: 11 },
      { confirmations: -1 },
      { timeout: 0 },
      { timeout: Number.NaN },
      { closeStore: 'yes' },
    ];
    for (const extra of bad) {
      const error = (() => {
        try {
          keyvBackend({ store: good(), ...(extra as object) });
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(extra)).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/^\[@oncelock\/keyv keyv\]/);
    }
  });

  it('refuses an unknown option with the closest known name', () => {
    expect(() => keyvBackend({ store: good(), setle: 20 } as never)).toThrow(
      /^\[@oncelock\/keyv keyv\] keyvBackend\(\): unknown option "setle": did you mean "settle"\?/,
    );
  });

  it('refuses a TTL that would lapse while acquire reads back, before writing anything', async () => {
    const store = good();
    const backend = keyvBackend({ store, settle: 20, confirmations: 2 });
    await expect(backend.acquire({ key: 'k', owner: 'me', ttl: 40 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await store.get('oncelock:{k}')).toBeUndefined();
    expect((await backend.acquire({ key: 'k', owner: 'me', ttl: 200 })).granted).toBe(true);
    expect(await store.get('oncelock:{k}')).toMatchObject({ owner: 'me' });
  });

  it('declares best-effort exclusion, no fences, expiry at the TTL and no notifications', () => {
    const backend = keyvBackend({ store: good() });
    expect(backend.guarantees).toEqual({
      exclusion: 'best-effort',
      fencing: false,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: false,
    });
    expect(backend.subscribe).toBeUndefined();
  });
});
