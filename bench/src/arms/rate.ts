import { type LockBackend, rateLimit } from '@oncelock/core';
import type { RateDecision } from '@oncelock/core/backend';
import { postgresBackend } from '@oncelock/postgres';
import { redisBackend } from '@oncelock/redis';
import { keySpace, scripts } from '@oncelock/redis/lua';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

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
      return consumed(limiter, key);
    },
    close: async () => {
      await client.quit();
    },
  };
}

/** `consume` on any rate-limiter-flexible limiter: true if granted. */
async function consumed(limiter: { consume(key: string): Promise<unknown> }, key: string): Promise<boolean> {
  try {
    await limiter.consume(key);
    return true;
  } catch (refusal) {
    if (refusal instanceof RateLimiterRes) return false;
    throw refusal;
  }
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

/** The schema the PostgreSQL arms keep their rates in. */
const SCHEMA = 'bench_rate';

/**
 * rate-limiter-flexible's `RateLimiterPostgres.consume` at its defaults: a fixed window, one
 * upsert per call (a refusal too) on a pg Pool, committed as the server's `synchronous_commit`
 * says (on: a WAL flush per call), the window timed by the client's clock.
 */
async function flexiblePostgresArm(url: string): Promise<RateArm> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const limiters = new Map<string, RateLimiterPostgres>();
  const opts = { storeClient: pool, schemaName: SCHEMA, tableName: 'rlflx', clearExpiredByTimeout: false };
  // The table, made once as the library does on its first limiter.
  await new Promise<void>((resolve, reject) => {
    limiters.set(
      '',
      new RateLimiterPostgres({ ...opts, points: 1, duration: 1 }, (e?: unknown) =>
        e ? reject(e) : resolve(),
      ),
    );
  });
  return {
    decide(key, { limit, per }) {
      const id = `${limit}/${per}`;
      let limiter = limiters.get(id);
      if (!limiter) {
        limiter = new RateLimiterPostgres({
          ...opts,
          tableCreated: true,
          points: limit,
          duration: per / 1000,
        });
        limiters.set(id, limiter);
      }
      return consumed(limiter, key);
    },
    close: () => pool.end(),
  };
}

/** The `rate_limit` call the backend sends, alone through pg: what PostgreSQL and the client cost. */
async function statementOnlyArm(url: string): Promise<RateArm> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async decide(key, { limit, per }) {
      const text = `SELECT r.* FROM "${SCHEMA}".rate_limit($1::text, $2::int, $3::float8, $4::int, $5::float8) r`;
      const { rows } = await client.query<{ allowed: boolean }>(text, [key, limit, per, 0, 0]);
      return rows[0]?.allowed === true;
    },
    close: () => client.end(),
  };
}

/** oncelock on `postgresBackend` in `mode`, its schema made before the first decision. */
async function postgresOncelockArm(url: string, mode: 'advisory' | 'table'): Promise<RateArm> {
  const backend = postgresBackend({ connectionString: url, schema: SCHEMA, mode });
  await backend.migrate();
  return oncelockArm(backend);
}

/** The PostgreSQL contenders: rate-limiter-flexible's `RateLimiterPostgres` is the reference. */
export function postgresRateArms(url: string): RateArmSpec[] {
  return [
    {
      id: 'rate-limiter-flexible',
      label: 'rate-limiter-flexible RateLimiterPostgres.consume',
      floor: true,
      // Its table goes in the schema the backend makes.
      make: async () => {
        await (await postgresOncelockArm(url, 'table')).close();
        return flexiblePostgresArm(url);
      },
    },
    {
      id: 'oncelock',
      label: 'oncelock rateLimit (GCRA), advisory mode',
      make: () => postgresOncelockArm(url, 'advisory'),
    },
    {
      id: 'oncelock-table',
      label: 'oncelock rateLimit (GCRA), table mode',
      make: () => postgresOncelockArm(url, 'table'),
    },
    {
      id: 'statement',
      label: 'breakdown: the rate_limit call alone (pg, unnamed statement)',
      breakdown: true,
      make: () => statementOnlyArm(url),
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
