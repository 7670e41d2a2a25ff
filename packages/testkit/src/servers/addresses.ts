// The shared services every test, app, benchmark and lab talks to, from one place. Set these
// variables to run them against other servers; scripts/services.mjs reads the same ones.

/** `ONCELOCK_REDIS_URL`, default the local Redis. */
export const redisUrl: string = process.env.ONCELOCK_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** `ONCELOCK_POSTGRES_URL`, default the local PostgreSQL's `test` database (trust auth). */
export const postgresUrl: string =
  process.env.ONCELOCK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `redisUrl` as the options object that BullMQ's `connection` and `new Redis()` take. */
export function redisConnection(url: string = redisUrl): { host: string; port: number; password?: string } {
  const { hostname, port, password } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: Number(port || 6379),
    ...(password ? { password: decodeURIComponent(password) } : {}),
  };
}
