import { Redis } from 'ioredis';
import { CliError, EXIT } from './exit-codes.js';
import { redact, storeUrl } from './store.js';

/**
 * One ioredis connection for `queues`: connected up front, so a server that is down is reported
 * before anything else, and failing fast afterwards (no offline queue, no reconnect loop).
 */
export async function connectRedis(url: string, timeout: number): Promise<Redis> {
  storeUrl(url, ['redis:', 'rediss:']);
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeout,
    commandTimeout: timeout,
    retryStrategy: () => null,
  });
  // Errors reach us through the rejected calls; without a listener ioredis would also print them.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new CliError(EXIT.unreachable, `cannot use ${redact(url)}: ${(error as Error).message}`);
  }
  return client;
}

/** The BullMQ queues under `prefix`: every queue that has its `meta` hash, which BullMQ writes on the first add. */
export async function findQueues(client: Redis, prefix: string): Promise<string[]> {
  const head = `${prefix}:`;
  const names = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${globEscape(head)}*:meta`, 'COUNT', 1000);
    for (const key of keys) names.add(key.slice(head.length, -':meta'.length));
    cursor = next;
  } while (cursor !== '0');
  return [...names].sort();
}

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');
