import { redisBackend } from '@oncelock/redis';
import { backendContract } from '@oncelock/testkit';
import { connected } from './helpers.js';

// The shared Redis on 127.0.0.1:6379; each test's keys are unique, so other suites never collide.
backendContract({ name: 'redis', create: () => connected(redisBackend({ url: 'redis://127.0.0.1:6379' })) });
