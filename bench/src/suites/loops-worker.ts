/**
 * The loops suite's leader process: it leads one `singleton` (an idle body that only notes when
 * each pass starts) and listens on a raw channel of the same store (ioredis SUBSCRIBE, pg LISTEN),
 * noting when each message arrives: both sides of the comparison in one process.
 */
import { type LockBackend, type Singleton, singleton } from '@oncelock/core';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { wallNow } from '../clock.js';
import { serve } from '../workers.js';
import type { LoopsArm, LoopsCounts, LoopsRequest } from './loops-protocol.js';

const seen: Record<LoopsArm, number[]> = { oncelock: [], floor: [] };
const waiters = new Set<() => void>();
const note = (arm: LoopsArm) => {
  seen[arm].push(wallNow());
  for (const w of waiters) w();
};
let backend: LockBackend | undefined;
let loop: Singleton | undefined;
let close: (() => Promise<unknown>) | undefined;

/** Resolves with the time of `arm`'s event `index`, once it has happened. */
function at(arm: LoopsArm, index: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const t = seen[arm][index];
      if (t === undefined) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(t);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`no ${arm} event ${index} within ${timeoutMs} ms`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

async function start(r: Extract<LoopsRequest, { type: 'start' }>): Promise<void> {
  if (r.store === 'redis') {
    backend = redisBackend({ url: r.url });
    const sub = new Redis(r.url);
    sub.on('message', () => note('floor'));
    await sub.subscribe(r.channel);
    close = () => sub.quit();
  } else {
    backend = postgresBackend({ connectionString: r.url });
    const client = new pg.Client({ connectionString: r.url });
    client.on('notification', () => note('floor'));
    await client.connect();
    await client.query(`LISTEN ${r.channel}`);
    close = () => client.end();
  }
  // An interval longer than the run: every pass after the first comes from a wake-up.
  loop = singleton(
    backend,
    r.name,
    async () => {
      note('oncelock');
    },
    { interval: 3_600_000, ttl: 15_000 },
  );
  // The first pass runs as soon as it leads, after it listens for wake-ups.
  await at('oncelock', 0, 30_000);
}

serve(async (body) => {
  const r = body as LoopsRequest;
  switch (r.type) {
    case 'start':
      return start(r);
    case 'count':
      return { oncelock: seen.oncelock.length, floor: seen.floor.length } satisfies LoopsCounts;
    case 'wait':
      return at(r.arm, r.index, r.timeoutMs);
    case 'stop':
      await loop?.stop();
      await Promise.all([backend?.close(), close?.()]);
      return null;
  }
});
