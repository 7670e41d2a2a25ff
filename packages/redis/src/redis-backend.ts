import { randomUUID } from 'node:crypto';
import type { LockBackend } from '@oncelock/core';
import { defineBackend, exactlyOne, MAX_LIMIT, readOptions } from '@oncelock/core/backend';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { lockCommands } from './commands.js';
import { connection } from './connection.js';
import { keySpace } from './keys.js';
import { Notifier } from './notifier.js';
import {
  type CommonOptions,
  commonOptions,
  ioredisClient,
  ioredisOptions,
  listOf,
  newCluster,
  newRedis,
  PKG,
  redisUrl,
  withoutKeyPrefix,
} from './options.js';
import { rateLimit } from './rate.js';
import { stateCommands } from './state.js';
import { Subscriber } from './subscriber.js';
import { Topics } from './topics.js';

/** One of `url`, `client` or `cluster`, plus the common options. */
export type RedisBackendOptions = CommonOptions &
  (
    | {
        /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
        url: string;
        /** Passed straight to `new Redis(url, options)`: TLS, auth, timeouts... */
        redis?: RedisOptions;
      }
    | {
        /** Your ioredis `Redis` or `Cluster`. `close()` leaves it open: it is yours. */
        client: Redis | Cluster;
      }
    | {
        /** Seed nodes of a Redis Cluster; the backend makes (and closes) the `Cluster` client. */
        cluster: ClusterNode[];
        /** Passed straight to `new Cluster(nodes, options)`. */
        clusterOptions?: ClusterOptions;
      }
  );

const spec = {
  ...commonOptions,
  url: redisUrl,
  redis: ioredisOptions<RedisOptions>(),
  client: ioredisClient,
  cluster: listOf<ClusterNode>('a non-empty array of seed nodes ({ host, port }, a port or "host:port")', 1),
  clusterOptions: ioredisOptions<ClusterOptions>(),
};

/**
 * A {@link LockBackend} with every optional method: batched extension, notifications, listing,
 * rate limits, topics and saved state.
 */
export type RedisBackend = LockBackend &
  Required<
    Pick<
      LockBackend,
      | 'extendMany'
      | 'subscribe'
      | 'list'
      | 'rateLimit'
      | 'notify'
      | 'listen'
      | 'saveState'
      | 'loadState'
      | 'deleteState'
    >
  >;

/**
 * A lock backend on one Redis primary or a Redis Cluster (ioredis). Strict mutual exclusion on
 * the primary that owns the key, fences that strictly increase per key (also across a restart
 * that loses every key), release notifications over pub/sub that wake one waiter at a time,
 * concurrency limits (permits, each expiring on its own by the server's clock), rate limits
 * (GCRA on the server's clock), wake-up topics over pub/sub, state saved only by a key's lease
 * holder under its fence, and one round trip per operation.
 *
 * @param options - Exactly one of `url`, `client` or `cluster`, and optionally `prefix`
 *   (default `oncelock:`), `timeout` (milliseconds per operation, default 2000) and
 *   `fenceRetention` (milliseconds, default 60 000).
 * @example
 * const backend = redisBackend({ url: 'redis://127.0.0.1:6379' });
 * await using l = await lease(backend, 'audit-backfill', { ttl: 10_000, wait: 5_000 });
 */
export function redisBackend(options: RedisBackendOptions): RedisBackend {
  const at = { pkg: PKG, call: 'redisBackend()' };
  const o = readOptions(options, spec, at, true);
  exactlyOne(o, ['url', 'client', 'cluster'], at);
  const client = o.client
    ? withoutKeyPrefix(o.client, 'client', at)
    : o.url
      ? newRedis(o.url, o.redis)
      : newCluster(o.cluster!, o.clusterOptions);
  // The connection bounds every command by `timeout` itself, so defineBackend is given none.
  const conn = connection(client, o.client === undefined, o.timeout);
  const keys = keySpace(o.prefix);
  // Names this backend object's waiters in Redis and its wake-up channel.
  const id = randomUUID();
  // PUBLISH on a Cluster counts only the listeners on its own node: a release there tries one waiter.
  const wake = {
    id,
    tries: conn.isCluster ? 1 : 16,
    hand: !conn.isCluster,
    listens: (key: string, owner: string) => notifier.listens(keys.lock(key), owner),
  };
  const commands = lockCommands(conn, keys, { retention: o.fenceRetention, wake });
  // One subscriber connection, made on first use, for release wake-ups and topics alike.
  const subscriber = new Subscriber(conn, o.timeout);
  const topics = new Topics(conn, keys, subscriber);
  const notifier = new Notifier(
    subscriber,
    keys.wake(id),
    (lockKey) => {
      const key = keys.keyOf(lockKey);
      if (key !== undefined) commands.passOn(key).catch(() => {}); // lost: the next waiter's poll finds it free
    },
    (lockKey, owner) => {
      const key = keys.keyOf(lockKey);
      if (key !== undefined) commands.popped(key, owner);
    },
    (lockKey, owner, grant, listening) => {
      const key = keys.keyOf(lockKey);
      return key !== undefined && commands.handed(key, owner, grant, listening);
    },
  );

  return defineBackend({
    name: conn.isCluster ? 'redis-cluster' : 'redis',
    pkg: PKG,
    guarantees: {
      exclusion: 'strict',
      fencing: true,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: true,
      // Permits: each with its own expiry on the server's clock, and fences from the key's record.
      maxLimit: MAX_LIMIT,
    },
    ops: {
      // A refusal already has the contract's shape; a grant drops the commands' own fields.
      acquire: (request) =>
        commands
          .acquire(request)
          .then((r) =>
            !r.granted
              ? r
              : r.validFrom === undefined
                ? { granted: true, fence: r.fence }
                : { granted: true, fence: r.fence, validFrom: r.validFrom },
          ),
      extendMany: commands.extendMany,
      release: commands.release,
      inspect: commands.inspect,
      list: commands.list,
      async subscribe(key, listener, owner) {
        const unsubscribe = await notifier.subscribe(keys.lock(key), listener, owner);
        return () => {
          unsubscribe();
          if (owner !== undefined) commands.leave(key, owner);
        };
      },
      rateLimit: (request) => rateLimit(conn, keys, request),
      notify: (topic) => topics.notify(topic),
      listen: (topic, listener) => topics.listen(topic, listener),
      ...stateCommands(conn, keys),
    },
    async close() {
      await Promise.all([subscriber.close(), conn.close()]);
    },
  });
}
