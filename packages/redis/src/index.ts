// One install gives the whole API: core's leases, once and errors, plus the Redis backends.
export * from '@oncelock/core';
export type { CommonOptions } from './options.js';
export { type RedisBackend, type RedisBackendOptions, redisBackend } from './redis-backend.js';
export { type RedlockBackend, type RedlockBackendOptions, redlockBackend } from './redlock-backend.js';
