import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { deadline } from '../deadline.js';
import type { CounterState, FencedCounter } from './types.js';

// The scripts ship beside src/ and dist/, one level up from either.
const lua = (file: string) => readFileSync(new URL(`../../scripts/${file}`, import.meta.url), 'utf8');

type Scripted = Redis & {
  counterRead(key: string, fence: string): Promise<[number, number]>;
  counterWrite(key: string, log: string, fence: string, value: number, id: string): Promise<number>;
};

/** Counters in a Redis hash each, fence-checked by Lua (scripts/counter-*.lua). Resolves once connected. */
export async function redisCounter(url: string, name: string): Promise<FencedCounter> {
  // No retries and no resends: a write the proxy cut off must stay one write of unknown outcome,
  // resolved after the run from the applied-id set, never applied a second time behind our back.
  const redis = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    commandTimeout: 1000,
    retryStrategy: () => 20,
  }) as Scripted;
  redis.on('error', () => {}); // failures reach the caller as rejected commands
  redis.defineCommand('counterRead', { numberOfKeys: 1, lua: lua('counter-read-1.lua') });
  redis.defineCommand('counterWrite', { numberOfKeys: 2, lua: lua('counter-write-2.lua') });
  const hash = (key: string) => `counter:${key}`;
  const log = (key: string) => `counter:${key}:applied`;
  // Without an offline queue a command sent before the first connection would fail: wait for it.
  await deadline(
    new Promise<void>((resolve) => redis.once('ready', () => resolve())),
    10_000,
    `connecting to the counter store at ${url}`,
  ).catch((error: unknown) => {
    redis.disconnect();
    throw error;
  });

  return {
    async read(key, fence) {
      const [ok, value] = await redis.counterRead(hash(key), fence === null ? '' : String(fence));
      return ok === 1 ? Number(value) : null;
    },
    async write(key, fence, value, id) {
      const ok = await redis.counterWrite(
        hash(key),
        log(key),
        fence === null ? '' : String(fence),
        value,
        id,
      );
      return ok === 1;
    },
    async state(keys) {
      const out = new Map<string, CounterState>();
      for (const key of keys) {
        const [value, applied] = await Promise.all([
          redis.hget(hash(key), 'value'),
          redis.zrange(log(key), 0, -1),
        ]);
        out.set(key, { value: Number(value ?? 0), applied });
      }
      return out;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
