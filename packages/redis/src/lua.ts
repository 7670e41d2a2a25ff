/**
 * `@oncelock/redis/lua`: what the Redis backends send to Redis, for operators and tools. Each
 * Lua script's file name, text and SHA-1 (the name `EVALSHA` calls it by), to review the scripts
 * or `SCRIPT LOAD` them ahead of time; and `keySpace(prefix)`, the Redis keys and channels of a
 * lock (see "How it is stored" in the README).
 */

export { type KeySpace, keySpace } from './keys.js';
export * as scripts from './lua.generated.js';
