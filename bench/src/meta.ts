import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import type { Context } from './context.js';

/** The installed version of one of the bench's own dependencies. */
function version(pkg: string): string {
  try {
    const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version);
  } catch {
    return 'unknown';
  }
}

function commit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** Where and with what the figures were measured: ratios travel, absolute times do not. */
export async function describeRun(ctx: Context) {
  const server = await ctx.redis.admin.info('server');
  const client = new pg.Client({ connectionString: ctx.postgresUrl });
  await client.connect();
  const pgVersion = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
    .rows[0]?.v;
  await client.end();
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    profile: ctx.profile.name,
    commit: commit(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    redis: /redis_version:(\S+)/.exec(server)?.[1] ?? 'unknown',
    postgres: pgVersion ?? 'unknown',
    libraries: Object.fromEntries(
      ['ioredis', 'pg', 'bullmq', 'redlock', '@sesamecare-oss/redlock', 'redis-semaphore', 'async-mutex'].map(
        (p) => [p, version(p)],
      ),
    ),
  };
}

export type RunDescription = Awaited<ReturnType<typeof describeRun>>;
