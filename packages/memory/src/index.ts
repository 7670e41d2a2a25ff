import type { LockBackend, MemoryBackendOptions } from '@oncelock/core';
import { memoryBackendFor } from '@oncelock/core/backend';

export * from '@oncelock/core';

/**
 * The embedded default: a lock table in this process's memory (see `@oncelock/core`'s
 * `memoryBackend`). Its errors name `@oncelock/memory`, the package you installed.
 */
export function memoryBackend(options?: MemoryBackendOptions): LockBackend {
  return memoryBackendFor('@oncelock/memory', options);
}
