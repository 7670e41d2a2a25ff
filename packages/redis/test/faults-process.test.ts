import { redisBackend } from '@oncelock/redis';
import { spawnWorker } from '@oncelock/testkit/faults';
import { holderFaultSuite } from '@oncelock/testkit/holder-faults';
import { redisUrl } from '@oncelock/testkit/servers';

// Holders in child processes, killed and frozen for real, on the shared Redis.
const holder = new URL('./fixtures/holder.mjs', import.meta.url);
holderFaultSuite({
  name: 'redis',
  holder: (key, ttl) => spawnWorker(holder, [redisUrl, key, String(ttl)]),
  create: () => redisBackend({ url: redisUrl }),
});
