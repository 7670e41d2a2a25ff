// The three Keyv stores the tests run against, each in a namespace (or table) of its own that
// the suite removes afterwards, so runs in parallel and leftovers never collide.
import KeyvPostgres from '@keyv/postgres';
import KeyvRedis from '@keyv/redis';
import { postgresUrl, redisUrl } from '@oncelock/testkit/servers';
import Keyv from 'keyv';

const run = `${process.pid}_${Date.now().toString(36)}`;

export interface TestStore {
  readonly name: 'memory' | 'redis' | 'postgres';
  /** The Keyv namespace the run uses. */
  readonly namespace: string;
  /** A Keyv over the store, configured to throw; for Redis each has its own connection. */
  keyv(): Keyv;
  /** Backend options for this store beyond the defaults. */
  readonly tuning: { settle?: number };
  /** Whether a backend may disconnect the Keyv it was given (false where one pool is shared). */
  readonly ownsConnection: boolean;
  /** Removes what the run left behind and closes shared connections. */
  cleanup(): Promise<void>;
}

export function memoryStore(): TestStore {
  const map = new Map();
  const namespace = `t${run}`;
  return {
    name: 'memory',
    namespace,
    keyv: () => new Keyv({ store: map, namespace, throwOnErrors: true }),
    tuning: {},
    ownsConnection: true,
    async cleanup() {
      map.clear();
    },
  };
}

export function redisStore(): TestStore {
  const namespace = `oncelock-keyv-test-${run}`;
  const keyv = () =>
    new Keyv(new KeyvRedis(redisUrl, { namespace, throwOnErrors: true }), {
      namespace,
      useKeyPrefix: false,
      throwOnErrors: true,
    });
  return {
    name: 'redis',
    namespace,
    keyv,
    tuning: {},
    ownsConnection: true,
    async cleanup() {
      const k = keyv();
      await k.clear(); // deletes this namespace's keys only
      await k.disconnect();
    },
  };
}

/**
 * @keyv/postgres keeps one pg pool per URI for the whole process and its `disconnect()` ends
 * it for every adapter, so all backends share one adapter here and only cleanup disconnects.
 */
export function postgresStore(): TestStore {
  const table = `oncelock_keyv_${run}`;
  // Made on first use: the adapter creates its table as soon as it exists, and a filtered run
  // that never uses it would never get to the cleanup that drops it.
  let shared: { adapter: KeyvPostgres; keyv: Keyv } | undefined;
  const open = () => {
    // Keys are up to 1024 characters; the adapter's default column holds 255.
    const adapter = new KeyvPostgres({ uri: postgresUrl, table, keySize: 2048 });
    return { adapter, keyv: new Keyv(adapter, { throwOnErrors: true }) };
  };
  return {
    name: 'postgres',
    namespace: 'keyv',
    keyv: () => {
      shared ??= open();
      return shared.keyv;
    },
    // A query waits for a pooled connection: on a loaded test machine its round trip often
    // exceeds the default 10 ms freshness bound (see the README on raising `settle`).
    tuning: { settle: 20 },
    ownsConnection: false,
    async cleanup() {
      if (!shared) return;
      await shared.adapter.query(`DROP TABLE IF EXISTS public.${table}`);
      await shared.keyv.disconnect();
      shared = undefined;
    },
  };
}

export const allStores = [memoryStore, redisStore, postgresStore];
