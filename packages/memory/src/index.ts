import type { LockBackend, MemoryBackendOptions } from '@oncelock/core';
import { memoryBackendFor } from '@oncelock/core/backend';

export * from '@oncelock/core';

/**
 * The embedded default: a lock table in this process's memory (see `@oncelock/core`'s
 * `memoryBackend`). Its errors name `@oncelock/memory`, the package you installed.
 *
 * @param options - The clock. Optional: by default TTLs run on `performance.now()`.
 */
export function memoryBackend(options?: MemoryBackendOptions): LockBackend {
  return memoryBackendFor('@oncelock/memory', options);
}
