// The three ways to point redisBackend at Redis.

// #region url
import { type LockBackend, redisBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';

// The backend makes its own client from a URL (rediss:// for TLS) and
// closes it in close().
export const fromUrl = (): LockBackend =>
  redisBackend({
    url: 'redis://127.0.0.1:6379',
    redis: { connectionName: 'billing-worker' },
  });
// #endregion url

// #region client
// Your own ioredis client (or Cluster): the backend uses it and leaves it
// open in close().
export function fromClient(client: Redis): LockBackend {
  return redisBackend({ client, prefix: 'billing:locks:' });
}
// #endregion client

// #region cluster
// Seed nodes of a Redis Cluster; a lock and its fence record always share
// one hash slot.
export const fromCluster = (): LockBackend =>
  redisBackend({
    cluster: [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7000 },
    ],
  });
// #endregion cluster

export const newClient = () => new Redis('redis://127.0.0.1:6379');
