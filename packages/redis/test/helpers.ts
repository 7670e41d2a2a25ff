import type { LockBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';

// Small shared pieces of the tests: raw clients for looking at what the scripts wrote, unique keys,
// warm backends. Waits come from @oncelock/testkit.

const opened: Redis[] = [];

/** A plain ioredis client, closed after the file's tests. */
export function raw(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  opened.push(client);
  return client;
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
});

export const unique = (name: string) => `${name}:${Math.random().toString(36).slice(2, 10)}`;

/** `backend` once it has answered one call: connection setup is then out of the way. */
export async function connected(backend: LockBackend): Promise<LockBackend> {
  await backend.inspect('warm-up');
  return backend;
}
