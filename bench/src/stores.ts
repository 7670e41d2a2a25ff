import { type RedisServer, startRedisServer } from '@oncelock/testkit/servers';
import { Redis } from 'ioredis';

/**
 * A Redis of the bench's own on a free loopback port: command counts must include nobody else's
 * traffic, so the shared Redis the tests use is never touched.
 */
export interface BenchRedis {
  readonly url: string;
  readonly server: RedisServer;
  /** The bench's own connection, for stats and clean-up; its commands are left out of the counts. */
  readonly admin: Redis;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const server = await startRedisServer();
  const admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  return {
    url: server.url,
    server,
    admin,
    async stop() {
      admin.disconnect();
      await server.stop();
    },
  };
}

/** What the store did between two snapshots. */
export interface StoreLoad {
  /** Every command Redis executed, those run inside scripts included, by name. */
  readonly commands: Record<string, number>;
  readonly totalCommands: number;
  /** Scripts run (EVAL, EVALSHA, FCALL): each is one request from a client. */
  readonly scripts: number;
  /** CPU seconds the Redis server used. */
  readonly cpuSeconds: number;
}

// The bench's own bookkeeping commands, not load from the libraries measured.
const OWN = /^(info|config\|.*|config)$/;

/** Clears the command counters; returns a CPU baseline for {@link storeLoadSince}. */
export async function resetStoreStats(admin: Redis): Promise<number> {
  await admin.config('RESETSTAT');
  return serverCpu(await admin.info('cpu'));
}

export async function storeLoadSince(admin: Redis, cpuBaseline: number): Promise<StoreLoad> {
  const [stats, cpu] = await Promise.all([admin.info('commandstats'), admin.info('cpu')]);
  const commands: Record<string, number> = {};
  for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = m[1] as string;
    if (!OWN.test(name)) commands[name] = Number(m[2]);
  }
  const totalCommands = Object.values(commands).reduce((a, b) => a + b, 0);
  const scripts = (commands.evalsha ?? 0) + (commands.eval ?? 0) + (commands.fcall ?? 0);
  return { commands, totalCommands, scripts, cpuSeconds: serverCpu(cpu) - cpuBaseline };
}

function serverCpu(info: string): number {
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_sys') + field('used_cpu_user');
}
