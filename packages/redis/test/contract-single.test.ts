import { redisBackend } from '@oncelock/redis';
import { backendContract } from '@oncelock/testkit';
import { redisUrl } from '@oncelock/testkit/servers';
import { connected } from './helpers.js';

// The shared Redis; each test's keys are unique, so other suites never collide.
backendContract({ name: 'redis', create: () => connected(redisBackend({ url: redisUrl })) });
