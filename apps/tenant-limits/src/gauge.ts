import type { Redis } from 'ioredis';

// The jobs of a tenant running at once, counted in Redis itself: each job counts itself in when
// its work starts and out when it ends, so "most at once" needs no clocks compared across
// processes. The first start is stamped with the Redis server's clock, as is the flood's start.

// KEYS[1]: the tenant's gauge hash. Fields: running (now), most (ever), runs, first (ms).
const countIn = `local now = redis.call('HINCRBY', KEYS[1], 'running', 1)
if now > tonumber(redis.call('HGET', KEYS[1], 'most') or '0') then
  redis.call('HSET', KEYS[1], 'most', now)
end
redis.call('HINCRBY', KEYS[1], 'runs', 1)
local t = redis.call('TIME')
redis.call('HSETNX', KEYS[1], 'first', t[1] .. string.format('%03d', math.floor(t[2] / 1000)))
return now`;

/** What one tenant's gauge read at the end of an arm. */
export interface GaugeReading {
  /** Jobs of the tenant running when read (0 once every job has ended). */
  running: number;
  /** The most jobs of the tenant that ran at once. */
  most: number;
  /** Jobs of the tenant whose work started. */
  runs: number;
  /** When the tenant's first job started, by the Redis server's clock (ms). */
  first: number | undefined;
}

export interface Gauge {
  /** A job of `tenant` starts its work. */
  in(tenant: string): Promise<void>;
  /** A job of `tenant` ends its work, however. */
  out(tenant: string): Promise<void>;
  read(tenant: string): Promise<GaugeReading>;
  /** The Redis server's clock, ms. */
  now(): Promise<number>;
  clear(tenants: readonly string[]): Promise<void>;
}

/** The gauges of one arm: a hash per tenant under `prefix`, on `redis`. */
export function gauge(redis: Redis, prefix: string): Gauge {
  const key = (tenant: string) => `${prefix}:gauge:${tenant}`;
  return {
    async in(tenant) {
      await redis.eval(countIn, 1, key(tenant));
    },
    async out(tenant) {
      await redis.hincrby(key(tenant), 'running', -1);
    },
    async read(tenant) {
      const h = await redis.hgetall(key(tenant));
      return {
        running: Number(h.running ?? 0),
        most: Number(h.most ?? 0),
        runs: Number(h.runs ?? 0),
        first: h.first === undefined ? undefined : Number(h.first),
      };
    },
    async now() {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    },
    async clear(tenants) {
      if (tenants.length > 0) await redis.del(...tenants.map(key));
    },
  };
}
