import { postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';
import { Semaphore } from 'redis-semaphore';
import type { ArmSpec, LockArm } from './arm.js';
import { oncelockArm } from './oncelock.js';

/** redis-semaphore's Semaphore at its defaults: each permit has its own expiry; waiters poll every 10 ms. */
function semaphoreArm(url: string, limit: number): LockArm {
  const client = new Redis(url);
  return {
    async acquire(key, ttl, waitMs) {
      const semaphore = new Semaphore(client, key, limit, {
        lockTimeout: ttl,
        // A zero timeout would make no attempt at all: "try once" is one attempt.
        ...(waitMs > 0 ? { acquireTimeout: waitMs } : { acquireAttemptsLimit: 1 }),
        onLockLost: () => {},
      });
      return (await semaphore.tryAcquire()) ? { release: () => semaphore.release() } : null;
    },
    close: async () => {
      await client.quit();
    },
  };
}

/**
 * The contenders of the limits suite: a permit of a key with `limit` holders. On Redis, oncelock
 * against redis-semaphore's Semaphore (the floor the targets divide by); on PostgreSQL, an oncelock
 * permit against a plain oncelock lease on the same backend, which is what a permit must not cost much more than.
 */
export function permitArms(store: 'redis' | 'postgres', url: string, limit: number): ArmSpec[] {
  if (store === 'redis')
    return [
      {
        id: 'redis-semaphore',
        label: `redis-semaphore Semaphore (limit ${limit})`,
        floor: true,
        waits: true,
        make: async () => semaphoreArm(url, limit),
      },
      {
        id: 'oncelock',
        label: `oncelock permit (limit ${limit})`,
        waits: true,
        make: async () => oncelockArm(redisBackend({ url }), limit),
      },
    ];
  return [
    {
      id: 'lease',
      label: 'oncelock plain lease (advisory mode)',
      floor: true,
      waits: true,
      make: async () => oncelockArm(postgresBackend({ connectionString: url, mode: 'advisory' })),
    },
    {
      id: 'oncelock',
      label: `oncelock permit (limit ${limit}, advisory mode)`,
      waits: true,
      make: async () => oncelockArm(postgresBackend({ connectionString: url, mode: 'advisory' }), limit),
    },
  ];
}
