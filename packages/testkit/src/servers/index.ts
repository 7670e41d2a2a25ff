export {};
export * from './redis.js';
export * from './redis-cluster.js';
