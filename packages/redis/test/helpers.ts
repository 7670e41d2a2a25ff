import type { LockBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';

// Small shared pieces of the tests: raw clients for looking at what the scripts wrote, and waits.

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

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const unique = (name: string) => `${name}:${Math.random().toString(36).slice(2, 10)}`;

/** Resolves with the abort reason once `signal` fires. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

/** `backend` once it has answered one call: connection setup is then out of the way. */
export async function connected(backend: LockBackend): Promise<LockBackend> {
  await backend.inspect('warm-up');
  return backend;
}
