import { redlockBackend } from '@oncelock/redis';
import { backendContract } from '@oncelock/testkit';
import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { connected } from './helpers.js';

// Three independent redis-server processes on loopback ports. Five-node quorums are tested in
// redlock.test.ts, where nodes are also killed.
let servers: RedisServer[] = [];
backendContract({
  name: 'redlock over 3 primaries',
  setup: async () => {
    servers = await Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]);
  },
  teardown: async () => {
    await Promise.all(servers.map((s) => s.stop()));
  },
  create: () => connected(redlockBackend({ urls: servers.map((s) => s.url) })),
});
