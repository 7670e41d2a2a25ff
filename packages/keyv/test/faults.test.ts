// Holders in child processes, killed and frozen for real, over @keyv/redis on the shared Redis.
import { spawnWorker } from '@oncelock/testkit/faults';
import { holderFaultSuite } from '@oncelock/testkit/holder-faults';
import { redisUrl } from '@oncelock/testkit/servers';
import { afterAll } from 'vitest';
import { keyvBackend } from '../src/index.js';
import { redisStore } from './stores.js';

const store = redisStore();
const holder = new URL('./fixtures/holder.mjs', import.meta.url);
afterAll(() => store.cleanup());

holderFaultSuite({
  name: 'keyv over Redis',
  holder: (key, ttl) => spawnWorker(holder, [redisUrl, store.namespace, key, String(ttl)]),
  create: () => keyvBackend({ store: store.keyv(), closeStore: true }),
});
