import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type LockBackend } from '@oncelock/core';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { type Client, connection } from './connection.js';
import { guard } from './guard.js';
import { keySpace } from './keys.js';
import { Notifier } from './notifier.js';
import {
  type CommonOptions,
  checkClient,
  checkOptions,
  checkUrl,
  commonOptions,
  newCluster,
  newRedis,
} from './options.js';
import { createStore } from './store.js';
import { PKG } from './where.js';

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

/** A {@link LockBackend} with every optional method: batched extension, notifications, listing. */
export type RedisBackend = LockBackend & Required<Pick<LockBackend, 'extendMany' | 'subscribe' | 'list'>>;

/**
 * A lock backend on one Redis primary or a Redis Cluster (ioredis). Strict mutual exclusion on
 * the primary that owns the key, fences that strictly increase per key (also across a restart
 * that loses every key), release notifications over pub/sub that wake one waiter at a time,
 * and one round trip per operation.
 *
 * @example
 * const backend = redisBackend({ url: 'redis://127.0.0.1:6379' });
 * await using l = await lease(backend, 'audit-backfill', { ttl: 10_000, wait: 5_000 });
 */
export function redisBackend(options: RedisBackendOptions): RedisBackend {
  const o = checkOptions(options, 'redisBackend');
  const common = commonOptions(o);
  const given = ['url', 'client', 'cluster'].filter((k) => o[k] !== undefined);
  if (given.length !== 1) {
    const why =
      given.length === 0
        ? 'needs one of url, client or cluster'
        : `takes one of url, client or cluster, got ${given.join(' and ')}`;
    throw new InvalidArgumentError(`redisBackend() ${why}`, { pkg: PKG });
  }
  let client: Client;
  let owned = true;
  if (o.client !== undefined) {
    client = checkClient(o.client);
    owned = false;
  } else if (o.url !== undefined) {
    client = newRedis(checkUrl(o.url), o.redis, common.timeout);
  } else {
    client = newCluster(o.cluster, o.clusterOptions, common.timeout);
  }

  const conn = connection(client, owned, common.timeout);
  const keys = keySpace(common.prefix);
  // Names this backend object's waiters in Redis and its wake-up channel.
  const id = randomUUID();
  // PUBLISH on a Cluster counts only the listeners on its own node: a release there tries one waiter.
  const wake = { id, tries: conn.isCluster ? 1 : 16 };
  const store = createStore(conn, keys, { retention: common.fenceRetention, wake });
  const notifier = new Notifier(conn, common.timeout, keys.wake(id), (lockKey) => {
    const key = keys.keyOf(lockKey);
    if (key !== undefined) store.passOn(key).catch(() => {}); // lost: the next waiter's poll finds it free
  });
  const name = conn.isCluster ? 'redis-cluster' : 'redis';
  let closing: Promise<void> | undefined;
  const run = guard(name, () => closing !== undefined);

  return {
    name,
    pkg: PKG,
    guarantees: {
      exclusion: 'strict',
      fencing: true,
      deadHolder: 'at-ttl',
      frozenHolder: 'at-ttl',
      releaseNotifications: true,
    },
    acquire: (request) =>
      run('acquire', async () => {
        const r = await store.acquire(request);
        return r.granted ? { granted: true, fence: r.fence } : { granted: false, holder: r.holder };
      }),
    extend: (request) => run('extend', async () => (await store.extendMany([request]))[0] === true),
    extendMany: (requests) => run('extendMany', () => store.extendMany(requests)),
    release: (request) => run('release', () => store.release(request)),
    inspect: (key) => run('inspect', () => store.inspect(key)),
    list: (prefix = '') => run('list', () => store.list(prefix)),
    subscribe: (key, listener, owner) =>
      run('subscribe', async () => {
        const unsubscribe = await notifier.subscribe(keys.lock(key), listener, owner);
        return () => {
          unsubscribe();
          if (owner !== undefined) store.leave(key, owner);
        };
      }),
    close() {
      closing ??= Promise.all([notifier.close(), conn.close()]).then(() => {});
      return closing;
    },
  };
}
