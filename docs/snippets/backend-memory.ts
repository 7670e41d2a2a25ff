// The in-memory backend: one process, or tests.
// #region memory
import { lease, memoryBackend } from '@oncelock/memory';

const backend = memoryBackend();

await using held = await lease(backend, 'cache-warmup', { ttl: 5_000 });
// fences strictly increase, as on Redis and PostgreSQL
console.log(held.fence);
// #endregion memory

await held.release();
await backend.close();
