export {};
export * from './redis.js';
export * from './redis-cluster.js';
export * from './pgbouncer.js';
