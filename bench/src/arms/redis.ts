import { randomUUID } from 'node:crypto';
import { redisBackend } from '@oncelock/redis';
import { keySpace, scripts } from '@oncelock/redis/lua';
import { ExecutionError as SesameExecutionError, Redlock as SesameRedlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import Redlock, { ExecutionError, ResourceLockedError } from 'redlock';
import { now } from '../clock.js';
import type { ArmSpec, LockArm } from './arm.js';
import { backendOnlyArm, oncelockArm } from './oncelock.js';
import { tryUntilWoken } from './wake-loop.js';

// Compare-and-delete, the least a correct release can do: delete only if the token is still ours.
const DEL_IF_OWNER =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

type RawClient = Redis & { delIfOwner(key: string, token: string): Promise<number> };

/** The floor: `SET NX PX` and a compare-and-delete script, on one ioredis connection. */
function rawArm(url: string): LockArm {
  const client = new Redis(url) as RawClient;
  client.defineCommand('delIfOwner', { numberOfKeys: 1, lua: DEL_IF_OWNER });
  return {
    async acquire(key, ttl) {
      const token = randomUUID();
      const ok = await client.set(key, token, 'PX', ttl, 'NX');
      return ok === 'OK' ? { release: () => client.delIfOwner(key, token) } : null;
    },
    close: () => quit(client),
  };
}

// The floor for waiting: the key is taken with SET NX, or the caller joins the key's queue in the
// same step (so no release can slip in between); a release deletes the key if it is still ours
// and wakes the first in the queue on that waiter's own channel, which then tries again.
const TAKE_OR_QUEUE =
  "if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end " +
  "redis.call('rpush', KEYS[2], ARGV[3]) return 0";
const RELEASE_AND_WAKE =
  "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('del', KEYS[1]) " +
  "local w = redis.call('lpop', KEYS[2]) if w then redis.call('publish', w, '') end return 1";

type WakeClient = Redis & {
  takeOrQueue(key: string, queue: string, token: string, ttl: number, channel: string): Promise<number>;
  releaseAndWake(key: string, queue: string, token: string): Promise<number>;
};

/**
 * The least a wake-then-acquire handoff can cost on this machine: a release wakes one waiting
 * process, which takes the key in one round trip. No fence, no holder record, no token checks
 * beyond the release's. (oncelock's release hands the key over with the wake-up, one hop fewer.)
 */
function wakeOneArm(url: string): LockArm {
  const client = new Redis(url) as WakeClient;
  client.defineCommand('takeOrQueue', { numberOfKeys: 2, lua: TAKE_OR_QUEUE });
  client.defineCommand('releaseAndWake', { numberOfKeys: 2, lua: RELEASE_AND_WAKE });
  const subscriber = new Redis(url);
  const channel = `bench:wake:${randomUUID()}`;
  const listeners = new Set<() => void>();
  subscriber.on('message', () => {
    for (const wake of listeners) wake();
  });
  const listening = subscriber.subscribe(channel);
  return {
    async acquire(key, ttl, waitMs) {
      await listening;
      const token = randomUUID();
      const queue = `${key}:queue`;
      const take = async () =>
        (await client.takeOrQueue(key, queue, token, ttl, channel)) === 1
          ? { release: () => client.releaseAndWake(key, queue, token) }
          : null;
      return tryUntilWoken(take, waitMs, (wake) => {
        listeners.add(wake);
        return () => listeners.delete(wake);
      });
    },
    close: async () => {
      subscriber.disconnect();
      await quit(client);
    },
  };
}

interface RedlockLike {
  acquire(
    resources: string[],
    duration: number,
    settings?: { retryCount?: number },
  ): Promise<{ release(): Promise<unknown> }>;
}

/**
 * Redlock (either package) at its default settings: it retries up to 10 times, 200 ms apart
 * with jitter, then fails; the arm tries again until `waitMs` has passed.
 */
function redlockArm(
  url: string,
  make: (c: Redis) => RedlockLike,
  isRefusal: (e: unknown) => boolean,
): LockArm {
  const client = new Redis(url);
  const redlock = make(client);
  return {
    async acquire(key, ttl, waitMs) {
      const deadline = now() + waitMs;
      for (;;) {
        try {
          // Its retry delay and jitter stay at their defaults; only the count is cut to what the wait has left.
          const retryCount = Math.min(10, Math.max(0, Math.ceil((deadline - now()) / 200)));
          const lock = await redlock.acquire([key], ttl, { retryCount });
          return { release: () => lock.release() };
        } catch (error) {
          if (!isRefusal(error)) throw error;
          if (now() >= deadline) return null;
        }
      }
    },
    close: () => quit(client),
  };
}

function redlockV5(client: Redis): RedlockLike {
  const r = new Redlock([client]);
  // Its README's pattern: a held resource is an expected outcome, anything else is reported.
  r.on('error', (e: unknown) => {
    if (!(e instanceof ResourceLockedError)) console.error('redlock:', e);
  });
  return r;
}

function redlockSesame(client: Redis): RedlockLike {
  const r = new SesameRedlock([client]);
  r.on('error', (e: unknown) => {
    if (!(e instanceof Error && e.name === 'ResourceLockedError'))
      console.error('@sesamecare-oss/redlock:', e);
  });
  return r;
}

/** redis-semaphore's Mutex at its defaults: it polls every 10 ms while it waits. */
function semaphoreArm(url: string): LockArm {
  const client = new Redis(url);
  return {
    async acquire(key, ttl, waitMs) {
      const mutex = new Mutex(client, key, {
        lockTimeout: ttl,
        // A zero timeout would make no attempt at all: "try once" is one attempt.
        ...(waitMs > 0 ? { acquireTimeout: waitMs } : { acquireAttemptsLimit: 1 }),
        onLockLost: () => {},
      });
      return (await mutex.tryAcquire()) ? { release: () => mutex.release() } : null;
    },
    close: () => quit(client),
  };
}

async function quit(client: Redis): Promise<void> {
  await client.quit();
}

/** A lock's five keys, as acquire-5.lua and release-5.lua take them. */
type LockKeys = [lock: string, record: string, waiters: string, permits: string, grants: string];

type ScriptClient = Redis & {
  onceAcquire(
    ...args: [...LockKeys, owner: string, ttl: number, keep: number, waiter: string, limit: '']
  ): Promise<unknown>;
  onceRelease(
    ...args: [...LockKeys, owner: string, keep: number, wakePrefix: string, tries: number, limit: '']
  ): Promise<unknown>;
};

/**
 * oncelock's own Lua scripts, sent straight through ioredis with no oncelock code around them:
 * the difference to the floor is what the scripts do in Redis (fence, holder record, waking a waiter).
 * Used only to break the gap down. The scripts and the key layout come from `@oncelock/redis/lua`,
 * as the backend sends them; the arguments follow each script's KEYS/ARGV header.
 */
function scriptsOnlyArm(url: string): LockArm {
  const client = new Redis(url) as ScriptClient;
  client.defineCommand('onceAcquire', { numberOfKeys: 5, lua: scripts.acquire.source });
  client.defineCommand('onceRelease', { numberOfKeys: 5, lua: scripts.release.source });
  const keys = keySpace('oncelock:');
  const keep = 60_000;
  return {
    async acquire(key, ttl) {
      const owner = randomUUID();
      const k: LockKeys = [
        keys.lock(key),
        keys.record(key),
        keys.waiters(key),
        keys.permits(key),
        keys.grants(key),
      ];
      const reply = (await client.onceAcquire(...k, owner, ttl, keep, '', '')) as unknown[];
      if (reply[0] !== 1) return null;
      return { release: () => client.onceRelease(...k, owner, keep, keys.wakePrefix, 16, '') };
    },
    close: () => quit(client),
  };
}

/** Every Redis contender, then the breakdown of oncelock; each arm opens its own connection(s). */
export function redisArms(url: string): ArmSpec[] {
  return [
    { id: 'raw', label: 'raw ioredis (floor)', floor: true, waits: false, make: async () => rawArm(url) },
    {
      id: 'wake-one',
      label: 'raw ioredis wake-one (handoff floor)',
      waits: true,
      handoffFloor: true,
      make: async () => wakeOneArm(url),
    },
    { id: 'oncelock', label: 'oncelock', waits: true, make: async () => oncelockArm(redisBackend({ url })) },
    {
      id: 'redlock',
      label: 'redlock 5.0.0-beta.2',
      waits: true,
      make: async () => redlockArm(url, redlockV5, (e) => e instanceof ExecutionError),
    },
    {
      id: 'sesame-redlock',
      label: '@sesamecare-oss/redlock',
      waits: true,
      make: async () => redlockArm(url, redlockSesame, (e) => e instanceof SesameExecutionError),
    },
    { id: 'redis-semaphore', label: 'redis-semaphore', waits: true, make: async () => semaphoreArm(url) },
    {
      id: 'oncelock-scripts',
      label: "breakdown: oncelock's Lua scripts alone",
      waits: false,
      breakdown: true,
      make: async () => scriptsOnlyArm(url),
    },
    {
      id: 'oncelock-backend',
      label: 'breakdown: redisBackend calls without lease()',
      waits: false,
      breakdown: true,
      make: async () => backendOnlyArm(redisBackend({ url })),
    },
  ];
}
