import { type LockBackend, rateLimit } from '@oncelock/core';
import type { RateDecision } from '@oncelock/core/backend';
import { redisBackend } from '@oncelock/redis';
import { keySpace, scripts } from '@oncelock/redis/lua';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** A rate: `limit` starts per `per` ms. */
export interface Rate {
  readonly limit: number;
  readonly per: number;
}

/** One contender of the rate suite: a decision for `key` under a rate, granted or not. */
export interface RateArm {
  decide(key: string, rate: Rate): Promise<boolean>;
  close(): Promise<void>;
}

export interface RateArmSpec {
  readonly id: string;
  readonly label: string;
  /** The reference the other arms are divided by. */
  readonly floor?: boolean;
  /** A part of oncelock measured alone, to locate a gap to the reference; not a contender. */
  readonly breakdown?: boolean;
  readonly make: () => Promise<RateArm>;
}

/**
 * rate-limiter-flexible's `RateLimiterRedis.consume` at its defaults: a fixed window of
 * `duration` seconds, one script per call (INCR and PEXPIRE), a refusal thrown as a
 * `RateLimiterRes`. One limiter per rate, as a user makes them at startup.
 */
function flexibleArm(url: string): RateArm {
  const client = new Redis(url);
  const limiters = new Map<string, RateLimiterRedis>();
  return {
    async decide(key, { limit, per }) {
      const id = `${limit}/${per}`;
      let limiter = limiters.get(id);
      if (!limiter) {
        limiter = new RateLimiterRedis({ storeClient: client, points: limit, duration: per / 1000 });
        limiters.set(id, limiter);
      }
      try {
        await limiter.consume(key);
        return true;
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) return false;
        throw refusal;
      }
    },
    close: async () => {
      await client.quit();
    },
  };
}

/** oncelock as a user calls it: `rateLimit(backend, key, { limit, per })`, now or not. */
function oncelockArm(backend: LockBackend): RateArm {
  return {
    async decide(key, { limit, per }) {
      return (await rateLimit(backend, key, { limit, per })).allowed;
    },
    close: () => backend.close(),
  };
}

/** `redisBackend`'s own `rateLimit`, without core's `rateLimit()` around it (validation, events). */
function backendOnlyArm(url: string): RateArm {
  const backend = redisBackend({ url });
  return {
    async decide(key, { limit, per }) {
      return (await backend.rateLimit({ key, limit, per, burst: 0, reserve: 0 })).allowed;
    },
    close: () => backend.close(),
  };
}

/** rate-1.lua alone through ioredis: what Redis and the client cost, without the backend. */
function scriptOnlyArm(url: string): RateArm {
  const client = new Redis(url);
  const { sha, source } = scripts.rate;
  return {
    async decide(key, { limit, per }) {
      const args = [keySpace('bench:').rate(key), limit, per, 0, 0];
      const reply = (await client
        .evalsha(sha, 1, ...args)
        .catch(() => client.eval(source, 1, ...args))) as unknown[];
      return reply[0] === 1;
    },
    close: async () => {
      await client.quit();
    },
  };
}

export function rateArms(url: string): RateArmSpec[] {
  return [
    {
      id: 'rate-limiter-flexible',
      label: 'rate-limiter-flexible RateLimiterRedis.consume',
      floor: true,
      make: async () => flexibleArm(url),
    },
    {
      id: 'oncelock',
      label: 'oncelock rateLimit (GCRA)',
      make: async () => oncelockArm(redisBackend({ url })),
    },
    {
      id: 'backend',
      label: 'breakdown: redisBackend.rateLimit alone',
      breakdown: true,
      make: async () => backendOnlyArm(url),
    },
    {
      id: 'script',
      label: 'breakdown: rate-1.lua alone (EVALSHA through ioredis)',
      breakdown: true,
      make: async () => scriptOnlyArm(url),
    },
  ];
}

/**
 * `backend` with its rate decisions seen: core's `rateLimit` gives a caller `allowed` and
 * `remaining`, and the bench needs the store's slot (`at`) to time a waiter against it. One per
 * caller, so that concurrent callers each see their own decision.
 */
export function watchedDecisions(backend: LockBackend): {
  backend: LockBackend;
  last(): RateDecision | undefined;
} {
  let last: RateDecision | undefined;
  const watched: LockBackend = {
    ...backend,
    async rateLimit(request) {
      last = await backend.rateLimit!(request);
      return last;
    },
  };
  return { backend: watched, last: () => last };
}
