export * from './addresses.js';
export * from './pgbouncer.js';
export * from './postgres-cluster.js';
export * from './redis.js';
export * from './redis-cluster.js';
