import type { LockBackend } from '@oncelock/core';
import type { BackendSpec } from './protocol.js';

/**
 * Makes the lock backend a worker contends through. Each client library is loaded only when
 * its backend is asked for: a worker starts faster without the other three.
 */
export async function createBackend(spec: BackendSpec): Promise<LockBackend> {
  switch (spec.kind) {
    case 'redis': {
      const { redisBackend } = await import('@oncelock/redis');
      return redisBackend({ url: spec.url });
    }
    case 'redlock': {
      const { redlockBackend } = await import('@oncelock/redis');
      return redlockBackend({ urls: spec.urls });
    }
    case 'postgres': {
      const { postgresBackend } = await import('@oncelock/postgres');
      // A round trip that hangs (a cut connection) fails after 2 s, as with the Redis backends.
      return postgresBackend({ connectionString: spec.url, schema: spec.schema, timeout: 2000 });
    }
    case 'keyv': {
      const [{ Keyv }, { default: KeyvRedis }, { keyvBackend }] = await Promise.all([
        import('keyv'),
        import('@keyv/redis'),
        import('@oncelock/keyv'),
      ]);
      // Errors must surface, or a failed read would look like a free lock (see @oncelock/keyv).
      const store = new Keyv(new KeyvRedis(spec.url, { throwOnErrors: true }), { throwOnErrors: true });
      // Reads back 20 ms after writing (default 5): a loaded machine answers slower than that.
      // A call that hangs (a restarted or silent server) fails after 2 s, as with the other backends.
      return keyvBackend({ store, closeStore: true, settle: 20, timeout: 2000 });
    }
  }
}
