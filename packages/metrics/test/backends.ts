// The stores the rate and loop metrics are checked on: in memory, and a real Redis.
import { type LockBackend, memoryBackend } from '@oncelock/core';
import { redisBackend } from '@oncelock/redis';
import { redisUrl } from '@oncelock/testkit/servers';

export interface Store {
  readonly name: string;
  /**
   * Two backends on one store, as two processes of a fleet would have: for memory the same
   * object (a memory store lives in its backend), for Redis two connections.
   */
  pair(): { a: LockBackend; b: LockBackend; close(): Promise<void> };
}

export const stores: Store[] = [
  {
    name: 'memory',
    pair() {
      const a = memoryBackend();
      return { a, b: a, close: () => a.close() };
    },
  },
  {
    name: 'redis',
    pair() {
      const a = redisBackend({ url: redisUrl });
      const b = redisBackend({ url: redisUrl });
      return {
        a,
        b,
        close: async () => {
          await Promise.all([a.close(), b.close()]);
        },
      };
    },
  },
];
