import { type Lease, type LockBackend, lease } from '@oncelock/core';
import type { ExtendRequest } from '@oncelock/core/backend';
import { redisBackend } from '@oncelock/redis';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';

/** Many leases held at once, kept alive by the arm's own extension mechanism. */
export interface Holding {
  /** Round trips to Redis made to extend leases since the last call, and the most made in one tick. */
  take(): { roundTrips: number; ticks: number; maxPerTick: number; extended: number; lost: number };
  release(): Promise<void>;
}

/** Counts round trips per event-loop turn: the heartbeat sends a tick's batches in one turn. */
function tickCounter() {
  let roundTrips = 0;
  let ticks = 0;
  let maxPerTick = 0;
  let thisTick = 0;
  let extended = 0;
  return {
    count(leases: number) {
      roundTrips++;
      extended += leases;
      if (thisTick === 0) {
        ticks++;
        setImmediate(() => {
          maxPerTick = Math.max(maxPerTick, thisTick);
          thisTick = 0;
        });
      }
      thisTick++;
    },
    take(lost: number) {
      const out = { roundTrips, ticks, maxPerTick: Math.max(maxPerTick, thisTick), extended, lost };
      roundTrips = ticks = maxPerTick = extended = 0;
      return out;
    },
  };
}

async function inBatches(n: number, size: number, one: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i += size) {
    await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => one(i + j)));
  }
}

/** oncelock: one heartbeat loop for all leases, batched `extendMany` round trips. */
async function oncelock(url: string, n: number, ttl: number): Promise<Holding> {
  const inner = redisBackend({ url });
  const ticks = tickCounter();
  // The same backend with its extension calls counted; core calls nothing else while leases are held.
  const backend: LockBackend = {
    ...inner,
    extend(r: ExtendRequest) {
      ticks.count(1);
      return inner.extend(r);
    },
    extendMany: inner.extendMany
      ? (rs: readonly ExtendRequest[]) => {
          ticks.count(rs.length);
          return (inner.extendMany as (r: readonly ExtendRequest[]) => Promise<boolean[]>)(rs);
        }
      : undefined,
  };
  const leases: Lease[] = [];
  await inBatches(n, 500, async (i) => {
    leases.push(await lease(backend, `bench:scale:oncelock:${i}`, { ttl }));
  });
  return {
    take: () => ticks.take(leases.filter((l) => l.signal.aborted).length),
    async release() {
      // In batches, as they were taken: 10,000 commands queued at once outlast a client's command timeout.
      await inBatches(leases.length, 500, async (i) => void (await leases[i]?.release()));
      await inner.close();
    },
  };
}

const EXPIRE_IF_OWNER =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
type RawClient = Redis & { expireIfOwner(key: string, token: string, ttl: number): Promise<number> };

/** The plain pattern: each lock has its own interval timer and sends its own extension. */
async function timerPerLock(url: string, n: number, ttl: number): Promise<Holding> {
  const client = new Redis(url) as RawClient;
  client.defineCommand('expireIfOwner', { numberOfKeys: 1, lua: EXPIRE_IF_OWNER });
  const ticks = tickCounter();
  const timers: NodeJS.Timeout[] = [];
  let lost = 0;
  await inBatches(n, 500, async (i) => {
    const key = `bench:scale:timer:${i}`;
    const token = `t${i}`;
    if ((await client.set(key, token, 'PX', ttl, 'NX')) !== 'OK') throw new Error('a free key was refused');
    timers.push(
      setInterval(() => {
        ticks.count(1);
        client.expireIfOwner(key, token, ttl).then(
          (ok) => void (ok === 1 || lost++),
          () => lost++,
        );
      }, ttl / 3),
    );
  });
  return {
    take: () => ticks.take(lost),
    async release() {
      for (const t of timers) clearInterval(t);
      await client.quit();
    },
  };
}

/** redis-semaphore: each Mutex refreshes itself on its own interval (set to a third of the TTL, like oncelock). */
async function semaphore(url: string, n: number, ttl: number): Promise<Holding> {
  const client = new Redis(url);
  const ticks = tickCounter();
  // Every refresh of a Mutex is one EVALSHA on this client: count them there.
  const evalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { evalsha: typeof evalsha }).evalsha = (...args: unknown[]) => {
    ticks.count(1);
    return evalsha(...args);
  };
  const mutexes: Mutex[] = [];
  let lost = 0;
  await inBatches(n, 500, async (i) => {
    const m = new Mutex(client, `bench:scale:semaphore:${i}`, {
      lockTimeout: ttl,
      refreshInterval: Math.round(ttl / 3),
      acquireAttemptsLimit: 1,
      onLockLost: () => lost++,
    });
    if (!(await m.tryAcquire())) throw new Error('a free key was refused');
    mutexes.push(m);
  });
  ticks.take(0); // nothing before the window counts
  return {
    take: () => ticks.take(lost),
    async release() {
      await inBatches(mutexes.length, 500, (i) => (mutexes[i] as Mutex).release());
      await client.quit();
    },
  };
}

export const scaleArms = {
  oncelock: { label: 'oncelock (one heartbeat, batched)', hold: oncelock },
  'timer-per-lock': { label: 'raw ioredis, one timer per lock', hold: timerPerLock },
  'redis-semaphore': { label: 'redis-semaphore (a timer per Mutex)', hold: semaphore },
} as const;

export type ScaleArm = keyof typeof scaleArms;
